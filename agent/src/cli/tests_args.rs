//! The command line as clap reads it: where the management options apply,
//! where they come from, and what is a usage error.

use super::*;
use clap::error::ErrorKind;
use clap::CommandFactory;

const REMOTE: [&str; 9] = ["status", "apply", "try", "confirm", "weight", "config", "logs", "reboot", "poweroff"];

fn parse(args: &[&str]) -> Result<Cli, clap::Error> {
    Cli::try_parse_from(std::iter::once("lvs-agent").chain(args.iter().copied()))
}

fn target(cli: &Cli) -> &Target {
    match &cli.command {
        Command::Status(args) => &args.target,
        Command::Apply { target, .. }
        | Command::Try { target, .. }
        | Command::Confirm { target, .. }
        | Command::Weight { target, .. }
        | Command::Config { target, .. }
        | Command::Logs { target, .. }
        | Command::Reboot { target }
        | Command::Poweroff { target } => target,
        _ => panic!("not an operational command"),
    }
}

#[test]
fn every_operational_command_takes_the_endpoint_options_or_their_environment() {
    let cmd = Cli::command();
    for name in REMOTE {
        let sub = cmd.find_subcommand(name).unwrap_or_else(|| panic!("no {name}"));
        for (id, env) in [("endpoint", "LVS_ENDPOINT"), ("identity", "LVS_IDENTITY"), ("ca", "LVS_CA")] {
            let arg = sub.get_arguments().find(|a| a.get_id() == id).unwrap_or_else(|| panic!("{name}: no --{id}"));
            assert_eq!(arg.get_env().and_then(|e| e.to_str()), Some(env), "{name} --{id}");
        }
    }
    for local in ["check", "plan", "export", "import", "save", "restore"] {
        let sub = cmd.find_subcommand(local).unwrap();
        assert!(sub.get_arguments().all(|a| a.get_id() != "endpoint"), "{local} stays local");
    }
}

#[test]
fn with_an_endpoint_the_files_are_taken_and_without_one_the_command_is_local() {
    let cli = parse(&["status", "--endpoint", "192.0.2.10:9443", "--identity", "admin.pem", "--ca", "ca.pem"]).unwrap();
    let t = target(&cli);
    assert_eq!(t.endpoint.as_ref().map(ToString::to_string).as_deref(), Some("192.0.2.10:9443"));
    assert_eq!(t.identity.as_deref(), Some(std::path::Path::new("admin.pem")));
    assert_eq!(t.request_timeout, std::time::Duration::from_secs(60));
    let cli = parse(&["weight", "TCP 192.0.2.80:80", "198.51.100.1", "drain"]).unwrap();
    assert!(target(&cli).client(false).unwrap().is_none());
    let cli = parse(&["logs", "-f", "-n", "20", "--endpoint", "[2001:db8::1]:9443", "--identity", "a", "--ca", "c"]);
    let Command::Logs { follow, lines, .. } = cli.unwrap().command else { panic!() };
    assert!(follow);
    assert_eq!(lines, 20);
}

#[test]
fn an_endpoint_without_identity_or_ca_is_a_usage_error_naming_what_is_missing() {
    for (args, missing) in [
        (vec!["status", "--endpoint", "192.0.2.10:9443", "--ca", "ca.pem"], "--identity <FILE>"),
        (vec!["confirm", "--endpoint", "192.0.2.10:9443", "--identity", "admin.pem"], "--ca <FILE>"),
    ] {
        let e = parse(&args).err().unwrap_or_else(|| panic!("{args:?} parsed"));
        assert_eq!(e.kind(), ErrorKind::MissingRequiredArgument, "{args:?}");
        assert_eq!(e.exit_code(), 2);
        assert!(e.to_string().contains(missing), "{e}");
    }
}

#[test]
fn a_wrong_endpoint_or_timeout_is_a_usage_error() {
    let e = parse(&["status", "--endpoint", "192.0.2.10", "--identity", "a", "--ca", "c"]).err().unwrap();
    assert_eq!(e.kind(), ErrorKind::ValueValidation);
    assert!(e.to_string().contains("no port"), "{e}");
    let e =
        parse(&["config", "--endpoint", "192.0.2.10:9443", "--identity", "a", "--ca", "c", "--request-timeout", "0s"]);
    assert!(e.err().unwrap().to_string().contains("needs some time"));
}

#[test]
fn unreadable_identity_files_are_told_before_any_connection() {
    let cli = parse(&["status", "--endpoint", "192.0.2.10:9443", "--identity", "/nonexistent/a.pem", "--ca", "c"]);
    let e = target(&cli.unwrap()).client(false).err().unwrap();
    assert!(e.to_string().starts_with("--identity /nonexistent/a.pem: cannot read it"), "{e}");
    assert_eq!(e.exit_status(), EXIT_FAILED);
}
