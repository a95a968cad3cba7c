//! Helpers for the config tests: parse text, and find where a needle sits in it.
//! lvs-agent's tests include this file too.

#![allow(dead_code)]

use lvs_config::{self as config, ConfigError, Diagnostic, Loaded, Position};
use std::path::Path;

pub fn parse(text: &str) -> Result<Loaded, ConfigError> {
    config::parse(text, Path::new("test.ron"))
}

/// The 1-based line and column of the first occurrence of `needle`; where the
/// needle has a `|`, of the character after it (`address: |"192.0.2.80"`).
pub fn position_of(text: &str, needle: &str) -> Position {
    let (head, tail) = needle.split_once('|').unwrap_or(("", needle));
    let whole = format!("{head}{tail}");
    let at = text.find(&whole).unwrap_or_else(|| panic!("`{whole}` is not in the text")) + head.len();
    let before = &text[..at];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().unwrap_or("").chars().count() + 1;
    Position { line, column }
}

/// Asserts the text is refused with one error whose message has `message`,
/// placed exactly at `needle`.
pub fn assert_error_at(text: &str, needle: &str, message: &str) -> Diagnostic {
    let errors = match parse(text) {
        Ok(_) => panic!("expected an error containing `{message}`, but the file was accepted:\n{text}"),
        Err(ConfigError::Invalid { errors, .. }) => errors,
        Err(e) => panic!("unexpected error kind: {e}"),
    };
    let found = errors
        .iter()
        .find(|d| d.message.contains(message))
        .unwrap_or_else(|| panic!("no error contains `{message}`; errors were:\n{errors:#?}"))
        .clone();
    assert_eq!(found.position, Some(position_of(text, needle)), "position of: {found}");
    assert!(found.help.is_some(), "every error says what to do: {found}");
    found
}

/// Asserts the text is accepted with a warning whose message has `message`.
pub fn assert_warning(text: &str, message: &str) -> Diagnostic {
    let loaded = parse(text).unwrap_or_else(|e| panic!("expected the file to be accepted:\n{e}"));
    loaded
        .warnings
        .iter()
        .find(|d| d.message.contains(message))
        .unwrap_or_else(|| panic!("no warning contains `{message}`; warnings were:\n{:#?}", loaded.warnings))
        .clone()
}

/// A director on 192.0.2.0/24 with these services.
pub fn director(services: &str) -> String {
    format!(
        r#"Appliance(
    hostname: "lvs1",
    interfaces: [Interface(name: "eth0", addresses: ["192.0.2.10/24"])],
    role: Director(
        vips: [Vip(address: "192.0.2.80", interface: "eth0")],
        services: [
{services}
        ],
    ),
)
"#
    )
}

/// A real server with this role body.
pub fn real_server(role: &str) -> String {
    format!(
        r#"Appliance(
    hostname: "rs1",
    interfaces: [Interface(name: "eth0", addresses: ["192.0.2.21/24"])],
    role: RealServer(
{role}
    ),
)
"#
    )
}
