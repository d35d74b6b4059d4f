//! Command-line flags (clap): what the user typed, validated as it is parsed (account ids,
//! severities, a concurrency of at least 1). Defaults and the merge with the config file are
//! [`crate::settings`]'s job: a flag here is `None` or empty when not given. This module must
//! not read files or the environment.

use crate::audit::{Rule, Severity};
use crate::aws::credentials::CredentialKinds;
use crate::model::{AccountId, KeyAction};
use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

/// Audit and remediate long-lived AWS access keys across an AWS Organization.
///
/// With no command, opens the terminal UI. `--demo` runs everything against a local
/// emulated organization (no AWS account needed).
#[derive(Debug, Parser)]
#[command(name = "keytriage", version, about, long_about = None)]
pub struct Cli {
    /// Flags every command takes (before or after the command name).
    #[command(flatten)]
    pub global: GlobalArgs,
    /// What to do; the TUI when absent.
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// Flags every command takes.
#[derive(Debug, Args, Clone, Default)]
pub struct GlobalArgs {
    /// Run against a local emulated AWS Organization (starts the bundled moto emulator;
    /// implies --write). Needs python3; the first run installs moto into a cached venv.
    #[arg(long, global = true)]
    pub demo: bool,
    /// Config file (TOML); default: the platform config dir's keytriage/config.toml.
    #[arg(long, global = true, value_name = "PATH")]
    pub config: Option<PathBuf>,
    /// AWS profile from ~/.aws/config.
    #[arg(long, global = true)]
    pub profile: Option<String>,
    /// AWS region (IAM and Organizations are global; default us-east-1).
    #[arg(long, global = true)]
    pub region: Option<String>,
    /// Endpoint override for every AWS call (also AWS_ENDPOINT_URL).
    #[arg(long, global = true, value_name = "URL")]
    pub endpoint_url: Option<String>,
    /// Audit role assumed in member accounts [default: OrganizationAccountAccessRole].
    #[arg(long, global = true, value_name = "NAME")]
    pub role_name: Option<String>,
    /// External id the audit role's trust policy requires.
    #[arg(long, global = true, value_name = "ID")]
    pub external_id: Option<String>,
    /// Scan only these accounts (comma-separated 12-digit ids).
    #[arg(long, global = true, value_delimiter = ',', value_parser = parse_account_id, value_name = "ID,ID")]
    pub accounts: Vec<AccountId>,
    /// Never scan these accounts.
    #[arg(long, global = true, value_delimiter = ',', value_parser = parse_account_id, value_name = "ID,ID")]
    pub exclude_accounts: Vec<AccountId>,
    /// Accounts scanned at once [default: 8].
    #[arg(long, global = true, value_parser = clap::value_parser!(u16).range(1..))]
    pub concurrency: Option<u16>,
    /// key-not-rotated: active keys older than this many days [default: 90].
    #[arg(long, global = true)]
    pub rotation_days: Option<u32>,
    /// key-unused / password-unused: unused for more than this many days [default: 45].
    #[arg(long, global = true)]
    pub unused_days: Option<u32>,
    /// stale-user: users with nothing used for more than this many days [default: 90].
    #[arg(long, global = true)]
    pub stale_user_days: Option<u32>,
    /// certificate-expiring: active signing certificates expiring within this many days
    /// [default: 30].
    #[arg(long, global = true)]
    pub expiry_warning_days: Option<u32>,
    /// role-unused: roles created and not used for more than this many days [default: 90].
    #[arg(long, global = true)]
    pub unused_role_days: Option<u32>,
    /// Credential kinds to read, comma-separated: access_key, ssh_public_key,
    /// signing_certificate, service_specific, role (each account's IAM roles), or all
    /// [default: all].
    #[arg(long, global = true, value_name = "KINDS", value_parser = parse_kinds)]
    pub credentials: Option<CredentialKinds>,
    /// Allow write actions (deactivate, activate, rotate, delete). Off by default: the TUI
    /// says READ-ONLY and makes no write call.
    #[arg(long, global = true)]
    pub write: bool,
    /// Make write calls through this role (reads keep the audit role).
    #[arg(long, global = true, value_name = "NAME")]
    pub remediation_role: Option<String>,
    /// Scan history database (SQLite) [default: the data dir's keytriage/history.db].
    #[arg(long, global = true, value_name = "PATH")]
    pub history: Option<PathBuf>,
    /// Do not read or record scan history (every finding is then new).
    #[arg(long, global = true, conflicts_with = "history")]
    pub no_history: bool,
    /// Exceptions file (TOML, accepted risks that expire) [default: the config dir's
    /// keytriage/exceptions.toml, if present].
    #[arg(long, global = true, value_name = "PATH")]
    pub exceptions: Option<PathBuf>,
    /// `apply` refuses a plan older than this many hours [default: 24].
    #[arg(long, global = true, value_name = "HOURS")]
    pub max_plan_age_hours: Option<u32>,
}

/// The commands; none means the TUI.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Scan headless and print the scan document (JSON) or the findings (CSV) on stdout.
    /// Progress goes to stderr. Exit codes: 0 ok, 1 the tool failed, 2 a finding at or above
    /// --fail-on.
    Scan(ScanArgs),
    /// Open the TUI on the emulated demo organization: an alias of `--demo`, hidden so that
    /// help, completions and the man page spell the demo one way.
    #[command(hide = true)]
    Demo,
    /// Deactivate an access key (needs --write; asks unless --yes).
    Deactivate(KeyArgs),
    /// Activate an access key (needs --write; asks unless --yes).
    Activate(KeyArgs),
    /// Delete an access key (needs --write; asks unless --yes).
    Delete(KeyArgs),
    /// Scan and write a plan: the keys an action would change, each with the state it was
    /// planned against, and a digest. Review it, then `keytriage --write apply FILE`.
    Plan(PlanArgs),
    /// Apply a plan (needs --write; asks unless --yes): each key is re-read and skipped when
    /// it changed or was used since the plan. Exit codes: 0 all done, 1 could not run,
    /// 3 some targets skipped or failed.
    Apply(ApplyArgs),
    /// Print a shell completion script on stdout, generated from these flags.
    /// Bash: `keytriage completions bash > ~/.local/share/bash-completion/completions/keytriage`.
    Completions {
        /// The shell.
        #[arg(value_enum)]
        shell: CompletionShell,
    },
    /// Print the man page (roff) on stdout, generated from these flags:
    /// `keytriage man > ~/.local/share/man/man1/keytriage.1`.
    Man,
    /// List the recorded scans: time, caller, accounts ok/failed, findings by severity,
    /// new and resolved.
    History,
    /// Show new, resolved and changed findings between two recorded scans (ids from
    /// `keytriage history`) or two scan JSON files. Default: the last two recorded scans.
    Diff(DiffArgs),
}

/// Shells `keytriage completions` writes a script for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum CompletionShell {
    /// GNU bash.
    Bash,
    /// Z shell.
    Zsh,
    /// fish.
    Fish,
    /// PowerShell.
    Powershell,
}

/// Flags of `diff`.
#[derive(Debug, Args)]
pub struct DiffArgs {
    /// The older scan: a recorded scan id or a scan JSON file [default: the scan before TO].
    pub from: Option<String>,
    /// The newer scan: a recorded scan id or a scan JSON file [default: the latest scan].
    pub to: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = DiffFormat::Text)]
    pub format: DiffFormat,
}

/// Output formats of `diff`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DiffFormat {
    /// One line per change, `+` new, `-` resolved, `?` unchecked, `~` changed.
    Text,
    /// The changes as one JSON object.
    Json,
}

/// Which key a headless write acts on.
#[derive(Debug, Args)]
pub struct KeyArgs {
    /// The key's account (12 digits).
    #[arg(long, value_parser = parse_account_id, value_name = "ID")]
    pub account: AccountId,
    /// The IAM user.
    #[arg(long, value_name = "NAME")]
    pub user: String,
    /// The access key id (AKIA…).
    #[arg(long, value_name = "AKIA…")]
    pub key: String,
    /// Do not ask for confirmation.
    #[arg(long)]
    pub yes: bool,
}

/// What a plan does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum PlanAction {
    /// Deactivate active keys.
    Deactivate,
    /// Delete keys.
    Delete,
    /// Activate inactive keys.
    Activate,
}

impl From<PlanAction> for KeyAction {
    fn from(a: PlanAction) -> Self {
        match a {
            PlanAction::Deactivate => KeyAction::Deactivate,
            PlanAction::Delete => KeyAction::Delete,
            PlanAction::Activate => KeyAction::Activate,
        }
    }
}

/// Flags of `plan` (the accounts are the global `--accounts`).
#[derive(Debug, Args)]
pub struct PlanArgs {
    /// The write on every selected key.
    #[arg(long, value_enum)]
    pub action: PlanAction,
    /// Only keys with a finding of this rule, e.g. key-not-rotated.
    #[arg(long, value_parser = parse_rule, value_name = "RULE")]
    pub rule: Option<Rule>,
    /// Only keys at least this many days old.
    #[arg(long, value_name = "DAYS")]
    pub min_age: Option<u32>,
    /// Only keys not used for at least this many days (never used: since creation).
    #[arg(long, value_name = "DAYS")]
    pub unused_for: Option<u32>,
    /// Only users whose name matches this glob, e.g. 'batch-job-*'.
    #[arg(long, value_name = "GLOB")]
    pub users: Option<String>,
    /// Write the plan here (through a temporary file; nothing on failure) instead of stdout.
    #[arg(long, short, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Hide the progress bar on stderr.
    #[arg(long, short)]
    pub quiet: bool,
}

/// Flags of `apply`.
#[derive(Debug, Args)]
pub struct ApplyArgs {
    /// The plan file written by `keytriage plan`.
    #[arg(value_name = "PLAN")]
    pub plan: PathBuf,
    /// Do not ask for confirmation.
    #[arg(long)]
    pub yes: bool,
}

/// Output formats of `scan`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// The versioned scan document (schema keytriage.scan/v1).
    Json,
    /// One row per finding.
    Csv,
    /// OCSF 1.5.0 Compliance Finding events (class 2003), a JSON array.
    Ocsf,
    /// AWS Security Finding Format (what Security Hub imports), a JSON array.
    Asff,
}

/// Flags of `scan`.
#[derive(Debug, Args)]
pub struct ScanArgs {
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Json)]
    pub format: Format,
    /// Write to this file instead of stdout.
    #[arg(long, short, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Exit 2 when a finding at or above this severity exists (critical, high, medium, low, info).
    #[arg(long, value_parser = parse_severity, value_name = "SEVERITY")]
    pub fail_on: Option<Severity>,
    /// Exit 2 when a finding at or above this severity is new since the previous recorded
    /// scan (excepted findings never count).
    #[arg(long, value_parser = parse_severity, value_name = "SEVERITY")]
    pub fail_on_new: Option<Severity>,
    /// Hide the progress bar on stderr.
    #[arg(long, short)]
    pub quiet: bool,
    /// Also send the findings to AWS Security Hub in the caller's account
    /// (BatchImportFindings; findings resolved since the last import are archived).
    #[arg(long)]
    pub security_hub: bool,
    /// Security Hub's region [default: --region, else the SDK's region].
    #[arg(long, value_name = "REGION", requires = "security_hub")]
    pub security_hub_region: Option<String>,
}

fn parse_account_id(s: &str) -> Result<AccountId, String> {
    AccountId::parse(s).map_err(|e| e.to_string())
}

fn parse_rule(s: &str) -> Result<Rule, String> {
    Rule::ALL
        .into_iter()
        .find(|r| r.id() == s)
        .ok_or_else(|| format!("rule '{s}' is unrecognized (see the README's rule table)"))
}

fn parse_kinds(s: &str) -> Result<CredentialKinds, String> {
    CredentialKinds::parse_list(&[s])
}

fn parse_severity(s: &str) -> Result<Severity, String> {
    s.parse()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_account_id_and_severity_are_refused() {
        let e = Cli::try_parse_from(["keytriage", "--accounts", "123456789012,42", "scan"]).unwrap_err();
        assert!(e.to_string().contains("account id '42' is not 12 digits"), "{e}");
        let e = Cli::try_parse_from(["keytriage", "scan", "--fail-on", "severe"]).unwrap_err();
        assert!(e.to_string().contains("severity 'severe' is unrecognized"), "{e}");
    }

    #[test]
    fn accounts_split_on_commas() {
        let cli = Cli::try_parse_from(["keytriage", "scan", "--accounts", "111111111111,222222222222"]).unwrap();
        assert_eq!(cli.global.accounts.len(), 2);
    }
}
