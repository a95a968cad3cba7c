//! The walks against the locator they replaced (a parse per path that
//! fails on purpose where the path arrives, `arrive`), on every path of
//! every example and of texts written to be awkward; and how many walks and
//! parses they take.

use super::*;
use crate::ron_options;

// The old locator is the reference: the positions people were shown.

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
        let expected = arrive::locate_one(text, &options, path.segments());
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
    let unwrapped_some = r#"Appliance(role: Director(services: [Service(address: "192.0.2.80:80",
        tunnel: Some(kind: Gue, port: 6080), health: Some(port: 8080), real_servers: [])]))"#;
    assert_same_as_reference("Some(field: ...)", unwrapped_some);
    let one_line = r#"Appliance(role:Director(services:[Service(address:"192.0.2.80:80",real_servers:[]),Service(fwmark:5,real_servers:[RealServer(address:"192.0.2.21")])]))"#;
    assert_same_as_reference("one line", one_line);
}

#[test]
fn thousands_of_problems_take_one_parse() {
    let services: String =
        (0..4000).map(|i| format!("        Service(address: \"192.0.2.80:{}\", real_servers: []),\n", i + 1)).collect();
    let text = format!("Appliance(\n    role: Director(services: [\n{services}    ]),\n)\n");
    let paths: Vec<Path> =
        (0..4000).map(|i| Path::root().field("role").field("services").index(i).field("real_servers")).collect();
    let refs: Vec<&Path> = paths.iter().collect();
    let (found, parses) = locate_counted(&text, &ron_options(), &refs);
    assert_eq!(parses, 1);
    for (i, position) in found.iter().enumerate() {
        let column = "        Service(address: \"192.0.2.80:\", real_servers: ".len() + (i + 1).to_string().len() + 1;
        assert_eq!(*position, Some(Position { line: i + 3, column }), "services[{i}]");
    }
}

#[test]
fn nested_and_defaulted_paths_take_a_parse_per_level_not_per_path() {
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
    let (found, parses) = locate_counted(&text, &ron_options(), &refs);
    // One walk places the fields; the services, stepped into then, and
    // the defaults that fall back to them, take the second.
    assert_eq!(parses, 2);
    // The old locator parses once per path: a sample of them is enough.
    for (path, position) in paths.iter().zip(found).step_by(97) {
        assert_eq!(position, arrive::locate_one(&text, &ron_options(), path.segments()), "{path}");
    }
}

#[test]
fn text_that_does_not_parse_places_nothing() {
    let path = Path::root().field("role");
    assert_eq!(locate_all("Appliance(", &ron_options(), &[&path]), vec![None]);
}

#[test]
fn values_ron_will_not_hand_out_raw_cost_a_parse_each_for_the_first_few() {
    // ron checks a raw value again without our extensions, and refuses
    // `Some(kind: Gue)`: the first few such values are placed by a parse
    // each, the rest by their nearest placed ancestor (here the root).
    let services: String = (0..40)
        .map(|i| format!("Service(address: \"192.0.2.80:{}\", tunnel: Some(kind: Gue), real_servers: []),\n", i + 1))
        .collect();
    let text = format!("Appliance(role: Director(services: [\n{services}]))\n");
    let services = Path::root().field("role").field("services");
    let paths: Vec<Path> = (0..40).map(|i| services.index(i).field("tunnel")).collect();
    let refs: Vec<&Path> = paths.iter().collect();
    let (found, parses) = locate_counted(&text, &ron_options(), &refs);
    assert_eq!(parses, 1 + ONE_BY_ONE);
    for (i, position) in found.iter().enumerate() {
        let expected = if i < ONE_BY_ONE {
            let column = format!("Service(address: \"192.0.2.80:{}\", tunnel: ", i + 1).len() + 1;
            Position { line: i + 2, column }
        } else {
            Position { line: 1, column: 1 }
        };
        assert_eq!(*position, Some(expected), "services[{i}].tunnel");
    }
}
