//! The `lvs-agent` binary. As PID 1 it is the appliance's init (see `init`);
//! otherwise it is the command line, whose errors become exit statuses here
//! and nowhere else: 2 for a config or rules file that is wrong, 1 for anything else.

mod cli;

fn main() {
    if std::process::id() == 1 {
        lvs_agent::init::main();
    }
    std::process::exit(cli::run());
}
