//! The one-walk locator against the one it replaced (a parse per path that
//! fails on purpose where the path arrives), on every path of every example
//! and of texts written to be awkward; and the number of walks it takes.

use super::*;
use crate::ron_options;

/// The locator this one replaced: one parse per path, which fails on
/// purpose when it arrives, so that ron's error position is the value's.
mod reference {
    use crate::path::Seg;
    use crate::Position;
    use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};
    use std::fmt;

    const ARRIVED: &str = "\u{0}arrived";

    pub fn locate(text: &str, options: &ron::Options, segs: &[Seg]) -> Option<Position> {
        (0..=segs.len()).rev().find_map(|len| match options.from_str_seed(text, Walk(&segs[..len])) {
            Err(e) if e.code.to_string() == ARRIVED => {
                Some(skip_blank(text, Position { line: e.span.start.line, column: e.span.start.col }))
            }
            _ => None,
        })
    }

    fn skip_blank(text: &str, at: Position) -> Position {
        let (mut line, mut column) = (at.line, at.column);
        let mut lines = text.lines().skip(line - 1);
        let mut current = lines.next().unwrap_or("");
        loop {
            let rest: String = current.chars().skip(column - 1).collect();
            let skipped = rest.chars().take_while(|c| c.is_whitespace()).count();
            if skipped < rest.chars().count() {
                return Position { line, column: column + skipped };
            }
            match lines.next() {
                Some(next) => (current, line, column) = (next, line + 1, 1),
                None => return at,
            }
        }
    }

    struct Walk<'p>(&'p [Seg]);

    impl<'de> DeserializeSeed<'de> for Walk<'_> {
        type Value = ();
        fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
            if self.0.is_empty() {
                return Err(de::Error::custom(ARRIVED));
            }
            d.deserialize_any(self)
        }
    }

    impl<'de> Visitor<'de> for Walk<'_> {
        type Value = ();
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("any RON value")
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
            while let Some(key) = map.next_key::<String>()? {
                match self.0.first() {
                    Some(Seg::Field(f)) if *f == key => map.next_value_seed(Walk(&self.0[1..]))?,
                    _ => map.next_value::<IgnoredAny>().map(drop)?,
                }
            }
            Ok(())
        }
        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
            for i in 0.. {
                let more = match self.0.first() {
                    Some(Seg::Index(n)) if *n == i => seq.next_element_seed(Walk(&self.0[1..]))?.is_some(),
                    _ => seq.next_element::<IgnoredAny>()?.is_some(),
                };
                if !more {
                    break;
                }
            }
            Ok(())
        }
        fn visit_some<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
            d.deserialize_any(self)
        }
        fn visit_newtype_struct<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
            d.deserialize_any(self)
        }
        fn visit_enum<A: de::EnumAccess<'de>>(self, _: A) -> Result<(), A::Error> {
            Ok(())
        }
        fn visit_unit<E>(self) -> Result<(), E> {
            Ok(())
        }
        fn visit_none<E>(self) -> Result<(), E> {
            Ok(())
        }
        fn visit_bool<E>(self, _: bool) -> Result<(), E> {
            Ok(())
        }
        fn visit_i64<E>(self, _: i64) -> Result<(), E> {
            Ok(())
        }
        fn visit_u64<E>(self, _: u64) -> Result<(), E> {
            Ok(())
        }
        fn visit_f64<E>(self, _: f64) -> Result<(), E> {
            Ok(())
        }
        fn visit_str<E>(self, _: &str) -> Result<(), E> {
            Ok(())
        }
    }
}

/// Every path to a value written in the text, and below each one a field
/// that is not written (as a default is not), so that the walk up is tested too.
fn every_path(text: &str) -> Vec<Path> {
    fn walk(value: &ron::Value, at: Path, out: &mut Vec<Path>) {
        out.push(at.field("not_written"));
        match value {
            ron::Value::Map(map) => {
                for (key, v) in map.iter() {
                    if let ron::Value::String(key) = key {
                        let name: &'static str = Box::leak(key.clone().into_boxed_str());
                        walk(v, at.field(name), out);
                    }
                }
            }
            ron::Value::Seq(items) => {
                for (i, v) in items.iter().enumerate() {
                    walk(v, at.index(i), out);
                }
                out.push(at.index(items.len()));
            }
            ron::Value::Option(Some(v)) => return walk(v, at, out),
            _ => {}
        }
        out.push(at);
    }
    let value: ron::Value = ron_options().from_str(text).unwrap();
    let mut out = Vec::new();
    walk(&value, Path::root(), &mut out);
    out
}

fn assert_same_as_reference(name: &str, text: &str) {
    let options = ron_options();
    let paths = every_path(text);
    let refs: Vec<&Path> = paths.iter().collect();
    let found = locate_all(text, &options, &refs);
    for (path, position) in paths.iter().zip(found) {
        let expected = reference::locate(text, &options, path.segments());
        assert_eq!(position, expected, "{name}: {path}");
    }
}

#[test]
fn every_path_of_every_example_is_where_the_old_locator_put_it() {
    let examples = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples");
    let mut seen = 0;
    for entry in std::fs::read_dir(&examples).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "ron") {
            assert_same_as_reference(&path.display().to_string(), &std::fs::read_to_string(&path).unwrap());
            seen += 1;
        }
    }
    assert!(seen > 10, "only {seen} examples in {}", examples.display());
}

#[test]
fn awkward_layouts_place_values_as_the_old_locator_did() {
    let text = "#![enable(implicit_some)]\r\n// a comment first\r\nAppliance(\r\n    hostname: /* before */ \"lb\",\r\n    role: Director(\r\n        services: [ Service(address:\"192.0.2.80:80\",\r\n            health: Some(Tcp(interval:\"2s\")), tunnel: Some((kind: Gue, port: 6080)),\r\n            real_servers: [RealServer(address: \"192.0.2.21\", weight: -1),RealServer(\r\n\r\n   address: \"192.0.2.22\")]),\r\n        ],\r\n        timeouts: Timeouts(tcp: \"1s\"), ipvs_sysctls: IpvsSysctls(conntrack: true),\r\n    ),\r\n)\r\n";
    assert_same_as_reference("crlf, comments and Some", text);
    let one_line = r#"Appliance(role:Director(services:[Service(address:"192.0.2.80:80",real_servers:[]),Service(fwmark:5,real_servers:[RealServer(address:"192.0.2.21")])]))"#;
    assert_same_as_reference("one line", one_line);
}

#[test]
fn thousands_of_problems_take_one_walk() {
    let services: String =
        (0..4000).map(|i| format!("        Service(address: \"192.0.2.80:{}\", real_servers: []),\n", i + 1)).collect();
    let text = format!("Appliance(\n    role: Director(services: [\n{services}    ]),\n)\n");
    let paths: Vec<Path> =
        (0..4000).map(|i| Path::root().field("role").field("services").index(i).field("real_servers")).collect();
    let refs: Vec<&Path> = paths.iter().collect();
    let (found, walks) = locate_counted(&text, &ron_options(), &refs);
    assert_eq!(walks, 1);
    for (i, position) in found.iter().enumerate() {
        let column = "        Service(address: \"192.0.2.80:\", real_servers: ".len() + (i + 1).to_string().len() + 1;
        assert_eq!(*position, Some(Position { line: i + 3, column }), "services[{i}]");
    }
}

#[test]
fn nested_and_defaulted_paths_take_a_walk_per_level_not_per_path() {
    let services: String =
        (0..1000).map(|i| format!("Service(address: \"192.0.2.80:{}\", real_servers: []),\n", i + 1)).collect();
    let text = format!("Appliance(role: Director(services: [\n{services}]))\n");
    // Per service: the service itself, a field inside it, and a field not
    // written (placed at the service): three kinds, each a thousand times.
    let services = Path::root().field("role").field("services");
    let paths: Vec<Path> = (0..1000)
        .flat_map(|i| {
            let s = services.index(i);
            [s.clone(), s.field("real_servers"), s.field("scheduler")]
        })
        .collect();
    let refs: Vec<&Path> = paths.iter().collect();
    let (found, walks) = locate_counted(&text, &ron_options(), &refs);
    // One walk places the fields; the services, stepped into then, and
    // the defaults that fall back to them, take the second.
    assert_eq!(walks, 2);
    // The old locator parses once per path: a sample of them is enough.
    for (path, position) in paths.iter().zip(found).step_by(97) {
        assert_eq!(position, reference::locate(&text, &ron_options(), path.segments()), "{path}");
    }
}

#[test]
fn text_that_does_not_parse_places_nothing() {
    let path = Path::root().field("role");
    assert_eq!(locate_all("Appliance(", &ron_options(), &[&path]), vec![None]);
}
