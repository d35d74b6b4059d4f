//! Command-line flags (clap) and their merge with the config file into [`Settings`].

use crate::audit::{Policy, Severity};
use crate::config::FileConfig;
use crate::model::AccountId;
use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

/// Audit and remediate long-lived AWS access keys across an AWS Organization.
///
/// With no command, opens the terminal UI. `--demo` runs everything against a local
/// emulated organization (no AWS account needed).
#[derive(Debug, Parser)]
#[command(name = "keytriage", version, about, long_about = None)]
pub struct Cli {
    /// Shared flags.
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
    /// Allow write actions (deactivate, activate, rotate, delete). Off by default: the TUI
    /// says READ-ONLY and makes no write call.
    #[arg(long, global = true)]
    pub write: bool,
    /// Make write calls through this role (reads keep the audit role).
    #[arg(long, global = true, value_name = "NAME")]
    pub remediation_role: Option<String>,
}

/// Subcommands.
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

fn parse_severity(s: &str) -> Result<Severity, String> {
    s.parse()
}

/// Flags merged over the config file over the defaults.
#[derive(Debug, Clone)]
pub struct Settings {
    /// AWS profile.
    pub profile: Option<String>,
    /// AWS region.
    pub region: Option<String>,
    /// Endpoint override.
    pub endpoint_url: Option<String>,
    /// Audit role name.
    pub role_name: String,
    /// External id.
    pub external_id: Option<String>,
    /// Remediation role name, when writes use a separate role.
    pub remediation_role: Option<String>,
    /// Only these accounts.
    pub accounts: Vec<AccountId>,
    /// Never these accounts.
    pub exclude_accounts: Vec<AccountId>,
    /// Accounts at once.
    pub concurrency: usize,
    /// Users at once within an account.
    pub user_concurrency: usize,
    /// Rule thresholds.
    pub policy: Policy,
    /// `scan --fail-on` default.
    pub fail_on: Option<Severity>,
}

/// The default audit role.
pub const DEFAULT_ROLE: &str = "OrganizationAccountAccessRole";

impl Settings {
    /// Merges flags over the file over the defaults. The file was validated by `config::parse`.
    pub fn resolve(flags: &GlobalArgs, file: &FileConfig) -> Self {
        let ids = |flag: &Vec<AccountId>, file: &Option<Vec<String>>| -> Vec<AccountId> {
            if !flag.is_empty() {
                return flag.clone();
            }
            file.iter().flatten().filter_map(|s| AccountId::parse(s).ok()).collect()
        };
        let defaults = Policy::default();
        Self {
            profile: flags.profile.clone().or_else(|| file.profile.clone()),
            region: flags.region.clone().or_else(|| file.region.clone()),
            endpoint_url: flags.endpoint_url.clone().or_else(|| file.endpoint_url.clone()),
            role_name: flags
                .role_name
                .clone()
                .or_else(|| file.role_name.clone())
                .unwrap_or_else(|| DEFAULT_ROLE.into()),
            external_id: flags.external_id.clone().or_else(|| file.external_id.clone()),
            remediation_role: flags.remediation_role.clone().or_else(|| file.remediation_role.clone()),
            accounts: ids(&flags.accounts, &file.accounts),
            exclude_accounts: ids(&flags.exclude_accounts, &file.exclude_accounts),
            concurrency: usize::from(flags.concurrency.or(file.concurrency).unwrap_or(8)),
            user_concurrency: usize::from(file.user_concurrency.unwrap_or(8)),
            policy: Policy {
                rotation_days: flags
                    .rotation_days
                    .or(file.rotation_days)
                    .unwrap_or(defaults.rotation_days),
                unused_days: flags.unused_days.or(file.unused_days).unwrap_or(defaults.unused_days),
                stale_user_days: flags
                    .stale_user_days
                    .or(file.stale_user_days)
                    .unwrap_or(defaults.stale_user_days),
            },
            fail_on: file.fail_on.as_deref().and_then(|s| s.parse().ok()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_override_file_over_defaults() {
        let cli = Cli::try_parse_from(["keytriage", "--rotation-days", "30", "scan"]).unwrap();
        let file = FileConfig {
            rotation_days: Some(60),
            unused_days: Some(20),
            ..Default::default()
        };
        let s = Settings::resolve(&cli.global, &file);
        assert_eq!(
            s.policy,
            Policy {
                rotation_days: 30,
                unused_days: 20,
                stale_user_days: 90
            }
        );
        assert_eq!(s.role_name, DEFAULT_ROLE);
    }

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
