//! The example files: one per seed setup, each saying which seed it reproduces.

use lvs_tests::example_files;

#[test]
fn every_seed_has_examples_and_each_names_its_seed() {
    let files = example_files();
    let mut seeds_seen = std::collections::BTreeSet::new();
    for f in &files {
        let text = std::fs::read_to_string(f).unwrap();
        let first = text.lines().next().unwrap_or("");
        let seed = first
            .strip_prefix("// Seed ")
            .and_then(|rest| rest.split_whitespace().next())
            .unwrap_or_else(|| panic!("{} does not start with `// Seed <file>`", f.display()));
        assert!(seed.ends_with(".txt,"), "{}: {first}", f.display());
        let prefix = &f.file_name().unwrap().to_string_lossy()[..3];
        assert!(seed.starts_with(prefix), "{} names seed {seed}", f.display());
        seeds_seen.insert(seed.to_string());
    }
    assert_eq!(seeds_seen.len(), 5, "{seeds_seen:?}");
}

#[test]
fn every_example_but_the_refused_one_is_valid() {
    for f in example_files() {
        let result = lvs_config::load(&f);
        let name = f.file_name().unwrap().to_string_lossy().into_owned();
        if name.contains("refused") {
            assert!(result.is_err(), "{name} should be refused");
        } else {
            let loaded = result.unwrap_or_else(|e| panic!("{e}"));
            assert!(loaded.warnings.is_empty(), "{name}: {:?}", loaded.warnings);
        }
    }
}
