//! The `spleis` binary: the platform's command line.

mod cli;

fn main() -> std::process::ExitCode {
    cli::main()
}
