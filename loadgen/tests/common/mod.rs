//! What the tests of loadgen's synthetic sources share: the bytes the real binary sends.

use std::io::Read;
use std::net::TcpListener;
use std::process::Command;
use std::thread;

/// Runs loadgen with `args` against a loopback receiver that takes one TCP connection, and
/// returns what it sent; loadgen must succeed.
pub fn sent_over_one_connection(args: &[&str]) -> Vec<u8> {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let receiver = thread::spawn(move || {
        let (mut sock, _) = listener.accept().unwrap();
        let mut bytes = Vec::new();
        sock.read_to_end(&mut bytes).unwrap();
        bytes
    });
    let out = Command::new(env!("CARGO_BIN_EXE_loadgen"))
        .args(["--target", &addr, "--connections", "1"])
        .args(args)
        .output()
        .expect("loadgen runs");
    assert!(out.status.success(), "{args:?}: {out:?}");
    receiver.join().unwrap()
}
