//! loadgen's command line: the flags, then one run ([`loadgen::run`]), then its exit status:
//! 2 for a call that was wrong (flags, target, files), 1 for a run that could not be made.

use std::process::ExitCode;

use clap::Parser;
use loadgen::args::Args;
use loadgen::Failure;

fn main() -> ExitCode {
    match loadgen::run(Args::parse()) {
        Ok(status) => status,
        Err(Failure::Usage(e)) => {
            eprintln!("loadgen: {e:#}");
            ExitCode::from(2)
        }
        Err(Failure::Run(e)) => {
            eprintln!("loadgen: {e:#}");
            ExitCode::FAILURE
        }
    }
}
