//! Boost.Interprocess's first shared memory example, ported: the server
//! creates a named segment, fills it with bytes, and runs itself again as a
//! separate program (the client) that checks every byte; then the server
//! removes the segment.
//!
//! ```text
//! cargo run --example shared_memory_server_client
//! ```
//!
//! As in Boost, a guard removes the segment when the server leaves, even by
//! an error or a panic. Unlike Boost, the client opens it by name *and type*
//! (`[u8]` here): the header says what the segment holds.
use shm_runtime::{init, segment::Segment};
use std::process::Command;

const LEN: usize = 1000;

fn byte(i: usize) -> u8 {
    (i % 255) as u8 + 1 // 1..=255, never 0
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    if let [_, role, name] = args.as_slice() {
        assert_eq!(role, "client");
        // The client: open the segment read-only and check every byte.
        let bytes = Segment::posix(name).read_only().open::<[u8]>()?;
        if bytes.len() != LEN || bytes.iter().enumerate().any(|(i, b)| *b != byte(i)) {
            return Err("the client saw other bytes than the server wrote".into());
        }
        println!(
            "client: all {} bytes are as the server wrote them",
            bytes.len()
        );
        return Ok(());
    }
    // The server: create the segment (removed when `_remover` drops).
    let name = format!("/MySharedMemory-{}", std::process::id());
    let segment = Segment::posix(&name);
    let _remover = segment.owner();
    let bytes = segment.create(init::from_fn(LEN, byte))?;
    println!("server: wrote {} bytes to segment `{name}`", bytes.len());
    // Launch the client: this program again, as a separate process.
    let status = Command::new(std::env::current_exe()?)
        .args(["client", &name])
        .status()?;
    if !status.success() {
        return Err(format!("the client failed: {status}").into());
    }
    println!("server: the client checked the segment; removing it");
    Ok(())
}
