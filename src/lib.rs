//! keytriage: audit and remediate long-lived AWS access keys across an AWS Organization
//! (AWS Well-Architected SEC02-BP05, "audit and rotate credentials periodically").
//!
//! Data flows one way: [`aws`] (the only module that talks to AWS) → [`model`] (plain data)
//! → [`audit`] (pure rules) → [`scan`] (orchestration, events) → [`report`] (headless) or
//! `tui` (interactive). [`emulator`] starts the local emulated organization.
#![warn(missing_docs)]
#![deny(clippy::unwrap_used, clippy::panic)]
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::panic))]

pub mod audit;
pub mod aws;
pub mod cli;
pub mod config;
pub mod emulator;
pub mod journal;
pub mod logging;
pub mod model;
pub mod remediate;
pub mod report;
pub mod scan;
pub mod secret_file;
pub mod tui;
