//! keytriage: audit and remediate long-lived AWS access keys across an AWS Organization
//! (AWS Well-Architected SEC02-BP05, "audit and rotate credentials periodically").
//!
//! # The flow
//!
//! Data flows one way, and each step is a module:
//!
//! ```text
//! cli + config ─► settings ─► aws ─► model ─► audit ─► scan ──channel──► tui (interactive)
//!  (flags, file)  (one typed   (SDK    (plain   (pure   (tasks,        └► report (headless:
//!                  Settings)   calls)  data)    rules)   ScanEvent)          JSON, CSV, exit code)
//!                                 ▲
//!                 remediate ──────┘ (writes: pre-check, journal, call, re-read)
//! ```
//!
//! - [`cli`] parses flags, [`config`] reads the TOML file, and [`settings`] lays the one over
//!   the other into a typed [`settings::Settings`]; nothing after it reads flags or the file.
//! - [`aws`] is the only module that imports `aws_sdk_*`: it pages through AWS, classifies
//!   errors into [`aws::Error`] at the boundary and returns [`model`] types.
//! - [`model`] is owned plain data (accounts, users, access keys, MFA, root user); no SDK,
//!   tokio or ratatui.
//! - [`audit`] is pure: `(inventory, policy, now) → Vec<Finding>`, no I/O, no clock.
//! - [`scan`] runs one task per account with bounded concurrency and reports
//!   [`scan::ScanEvent`]s on a channel; one account's failure never fails the scan.
//! - `tui` (the terminal UI) and [`report`] (the headless output) read the same findings, so
//!   the two front ends cannot disagree.
//! - [`remediate`] is the one safe path for a write on any credential (an access key, an SSH
//!   public key, a signing certificate, a service-specific credential, the console password:
//!   [`model::Target`]): refuse unless writes are on, re-read the target live, journal the
//!   intent in [`journal`], call AWS, journal the outcome, re-read;
//!   the TUI and the headless commands both go through it. Writes that are not safe to
//!   repeat (`CreateAccessKey`, `DeleteAccessKey`) are made once; an unanswered one is
//!   journaled `unknown` with what a re-read found.
//! - [`secret_file`] is the only place a new secret is written (a 0600 credentials file);
//!   [`logging`] sets up the log file (0600) and caps the SDK's log levels so a secret in a
//!   response body can never reach it.
//! - [`commands`] holds the commands the binary dispatches to (headless scan, headless
//!   writes), so `main.rs` only parses and dispatches.
//! - [`emulator`] starts the bundled moto emulator: the demo and the tests run against it
//!   through the real SDK.
//!
//! # Where new things go
//!
//! - **A rule**: a [`audit::Rule`] variant (id, severity, controls in its methods, added to
//!   `Rule::ALL`) and its check in `audit/rules.rs`, in the function for its subject (root,
//!   user or key), with a table-driven test at its thresholds. Nothing else changes: the TUI,
//!   JSON and CSV show every finding.
//! - **A view**: one entry in `tui::views::VIEWS` (name, help, columns, default sort by column
//!   title, keymap contexts), a `ViewKind` variant and its row builder in `tui/views.rs`. The
//!   `:` completion, dispatch and `?` help come from the entry.
//! - **A key binding**: one line in `tui::keymap::KEYMAP` (keys, context, action, help); the
//!   dispatcher, footer and `?` help read it.
//! - **An AWS call**: a function in [`aws`] (a paginator, errors classified into
//!   [`aws::Error`] variants, output converted into [`model`] types), tested against the
//!   emulator (`assets/emulator.py`; extend its fault injection if a fault is missing).
//! - **A credential kind** (beyond access keys and passwords): its data in [`model`] (on
//!   [`model::User`]), read in `aws/inventory.rs` (from the credential report where it has a
//!   column), its rules in [`audit`], its rows in the TUI's credentials table (a user's view
//!   and `:credentials`), its writes in `aws/remediate.rs` behind [`model::Target`] (so
//!   [`remediate`] journals and re-reads it like the others), and its fields in the scan
//!   document ([`report`]).
//! - **Roles** (IAM roles, not user credentials): read per account by `aws/roles.rs`
//!   (`GetAccountAuthorizationDetails`, trust policies parsed from plain or URL-encoded JSON,
//!   each principal's account judged against the organization's accounts the scan discovered,
//!   [`scan::ScanOptions::members`]) into [`model::Role`] on [`model::AccountScan::roles`];
//!   their rules in `audit/rules.rs` (`audit_role`); a finding about a role names it in
//!   `user` with credential kind `role`; the `:roles` view lists them. No writes.
//! - **A setting**: a flag in [`cli::GlobalArgs`], a key in [`config::FileConfig`] (typed, so
//!   a bad value fails with line and column), the merge in [`settings::Settings::resolve`].
#![warn(missing_docs)]
#![deny(clippy::unwrap_used, clippy::panic)]
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::panic))]

pub mod audit;
pub mod aws;
pub mod cli;
pub mod commands;
pub mod config;
pub mod emulator;
pub mod exceptions;
pub mod history;
pub mod journal;
pub mod logging;
pub mod model;
pub mod remediate;
pub mod report;
pub mod scan;
pub mod secret_file;
pub mod settings;
pub mod text;
pub mod triage;
pub mod tui;
