//! The headless commands, one module each: flags in, decisions and output out. `main.rs`
//! only parses and dispatches to them.

pub mod write;
