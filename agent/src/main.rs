//! The `lvs-agent` command line. Errors become exit statuses here and nowhere
//! else: 2 for a config or rules file that is wrong, 1 for anything else.

mod cli;

fn main() {
    std::process::exit(cli::run());
}
