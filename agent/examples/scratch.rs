fn main() {
    for a in std::env::args().skip(1) {
        match lvs_agent::config::load(std::path::Path::new(&a)) {
            Ok(l) => println!("{:#?}\n{}", l.model, lvs_agent::config::to_ron(&l.raw)),
            Err(e) => println!("{e}"),
        }
    }
}
