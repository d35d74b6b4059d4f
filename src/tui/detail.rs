//! The detail popup: any row in full, wrapped. A finding with its evidence (the values that
//! made it fire, and the thresholds) and what to do; an account with its whole scan error
//! and a hint; a user or the root user with every credential and finding; a journal line.
//!
//! This module owns what the popup says and how it is drawn. It reads the [`Store`] and
//! must not change it or handle keys (`app.rs` opens, scrolls and closes it through the
//! keymap); key names in its advice come from the keymap.

use super::keymap::{self, Action};
use super::render::centered;
use super::store::{AccountEntry, Store};
use super::table::RowId;
use super::theme::Theme;
use super::views::{ago, is_root, lifecycle_label, mfa_word, sev_label};
use crate::audit::{Finding, Policy, Rule, Severity};
use crate::model::{AccessKey, KeyAction, KeyLastUsed, PrincipalKind, Role, RootUser, Timestamp, User, age_days};
use crate::text::plural;
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Widget, Wrap};
use unicode_width::{UnicodeWidthChar, UnicodeWidthStr};

/// What the popup shows: a title and lines (wrapped when drawn).
#[derive(Clone, Debug, Default)]
pub struct Detail {
    /// The popup's title, e.g. `finding root-access-key`.
    pub title: String,
    /// The body, one fact per line.
    pub lines: Vec<Line<'static>>,
}

impl Detail {
    fn new(title: impl Into<String>) -> Self {
        Self {
            title: title.into(),
            lines: Vec::new(),
        }
    }

    fn field(&mut self, label: &str, value: impl Into<String>, theme: &Theme) {
        self.lines.push(Line::from(vec![
            Span::styled(format!("{label:<10} "), theme.muted()),
            Span::raw(value.into()),
        ]));
    }

    fn heading(&mut self, text: impl Into<String>, theme: &Theme) {
        if !self.lines.is_empty() {
            self.lines.push(Line::raw(""));
        }
        self.lines.push(Line::styled(text.into(), theme.header()));
    }

    /// `CRIT rule-id KEY: detail`: the badge, then the text (wrapped under the text, not
    /// under the badge).
    fn finding_line(&mut self, f: &Finding, theme: &Theme) {
        let key = f.access_key_id.as_ref().map(|k| format!(" {k}")).unwrap_or_default();
        self.lines.push(Line::from(vec![
            Span::styled(format!("{:<4}", sev_label(f.severity)), theme.severity(f.severity)),
            Span::raw(" "),
            Span::raw(format!("{}{key}: {}", f.rule.id(), f.detail)),
        ]));
    }

    /// The body as plain text, one line per entry (for tests and copying).
    pub fn text(&self) -> String {
        self.lines
            .iter()
            .map(|l| l.spans.iter().map(|s| s.content.as_ref()).collect::<String>())
            .collect::<Vec<_>>()
            .join("\n")
    }
}

/// The first key bound to `action`, for advice ("press r").
fn key_of(action: Action) -> String {
    keymap::KEYMAP
        .iter()
        .find(|b| b.action == action)
        .map(|b| keymap::key_name(b.keys[0]))
        .unwrap_or_else(|| "?".into())
}

/// What to do about a finding of `rule`. Keys named are the TUI's (from the keymap).
pub fn what_to_do(rule: Rule) -> String {
    let k = |a: KeyAction| key_of(Action::Key(a));
    match rule {
        Rule::RootAccessKey => "sign in as the root user, check where the key is used, then delete the \
            root access key (Security credentials); use IAM roles instead. keytriage cannot change root keys"
            .into(),
        Rule::RootNoMfa => "sign in as the root user and enable MFA, preferably a hardware device".into(),
        Rule::RootVirtualMfa => "sign in as the root user and replace the virtual MFA with a hardware device".into(),
        Rule::KeyNotRotated => format!(
            "rotate it ({}: a new key, shown once), move the applications to the new key, then \
             deactivate ({}) and delete ({}) the old one",
            k(KeyAction::Rotate),
            k(KeyAction::Deactivate),
            k(KeyAction::Delete)
        ),
        Rule::KeyUnused => format!(
            "deactivate it ({}); delete it ({}) once nothing has broken",
            k(KeyAction::Deactivate),
            k(KeyAction::Delete)
        ),
        Rule::KeyNeverUsedAtSetup => format!(
            "delete it ({}): the console user signs in with a password and does not need it",
            k(KeyAction::Delete)
        ),
        Rule::MultipleActiveKeys => format!(
            "finish the rotation: once every application uses the newer key, deactivate ({}) the older one",
            k(KeyAction::Deactivate)
        ),
        Rule::ConsoleWithoutMfa => format!(
            "have the user enable MFA; if the user does not sign in, disable console access ({}: \
             deletes the console password; or the IAM console: user → Security credentials)",
            k(KeyAction::DisableConsole)
        ),
        Rule::PasswordUnused => format!(
            "disable console access ({}: deletes the console password; or the IAM console: user → \
             Security credentials)",
            k(KeyAction::DisableConsole)
        ),
        Rule::InactiveKey => format!(
            "delete it ({}) unless it is about to be reactivated",
            k(KeyAction::Delete)
        ),
        Rule::StaleUser => format!(
            "confirm with the owner that the user is no longer needed, then deactivate ({}) and delete \
             ({}) its credentials and disable console access ({}); delete the user in the IAM console",
            k(KeyAction::Deactivate),
            k(KeyAction::Delete),
            k(KeyAction::DisableConsole)
        ),
        Rule::RootSigningCertificate => "sign in as the root user and delete the signing certificate; \
            keytriage cannot change the root user's credentials"
            .into(),
        Rule::SshKeyNotRotated => format!(
            "have the user upload a new SSH public key and move CodeCommit to it, then deactivate ({}) and \
             delete ({}) the old one (or aws iam update-ssh-public-key / delete-ssh-public-key)",
            k(KeyAction::Deactivate),
            k(KeyAction::Delete)
        ),
        Rule::InactiveSshKey => format!(
            "delete it ({}) unless it is about to be reactivated (or aws iam delete-ssh-public-key)",
            k(KeyAction::Delete)
        ),
        Rule::CertificateExpiring | Rule::CertificateNotRotated => format!(
            "upload a new signing certificate and move its users to it, then deactivate ({}) and delete \
             ({}) the old one (or aws iam update-signing-certificate / delete-signing-certificate)",
            k(KeyAction::Deactivate),
            k(KeyAction::Delete)
        ),
        Rule::InactiveCertificate => format!(
            "delete it ({}) unless it is about to be reactivated (or aws iam delete-signing-certificate)",
            k(KeyAction::Delete)
        ),
        Rule::BedrockLongTermKey => format!(
            "replace it with short-term Amazon Bedrock API keys or IAM roles, then deactivate ({}) and \
             delete ({}) it (or aws iam delete-service-specific-credential)",
            k(KeyAction::Deactivate),
            k(KeyAction::Delete)
        ),
        Rule::ServiceCredentialLongLived | Rule::ServiceCredentialNotRotated => format!(
            "reset or recreate the credential with an expiry within the rotation age, move its users to \
             it, then deactivate ({}) and delete ({}) the old one",
            k(KeyAction::Deactivate),
            k(KeyAction::Delete)
        ),
        Rule::ServiceCredentialExpired => format!(
            "delete it ({}; or aws iam delete-service-specific-credential)",
            k(KeyAction::Delete)
        ),
        Rule::RoleUnused => "confirm with its owner that the role is no longer needed, then remove its \
            policies, instance profiles and the role (keytriage does not delete roles)"
            .into(),
        Rule::RoleTrustsAnyone => "restrict the trust policy to the principals that need the role, or add a \
            condition (aws:PrincipalOrgID, sts:ExternalId); aws iam update-assume-role-policy"
            .into(),
        Rule::RoleTrustsOutsideOrg => "confirm each outside account is meant to assume the role; for a third \
            party add an sts:ExternalId condition, else remove the account from the trust policy \
            (aws iam update-assume-role-policy)"
            .into(),
        Rule::RoleTrustsThirdParty => {
            "confirm the third party still needs the role; remove it from the trust policy when not".into()
        }
    }
}

/// What to try when a scan failed with `code` (an AWS error code or one of ours).
pub fn error_hint(code: &str) -> String {
    let rescan = key_of(Action::Rescan);
    if code.starts_with("AccessDenied") {
        format!(
            "check that the audit role exists in the account, trusts the caller and allows the \
             iam:List*/Get* calls (and that no SCP denies them); then rescan ({rescan})"
        )
    } else if code.contains("Throttl") || code.contains("TooManyRequests") {
        format!("AWS throttled the scan: lower --concurrency, then rescan ({rescan})")
    } else if code == "AccountNotActive" {
        "only ACTIVE accounts are scanned".into()
    } else {
        format!("rescan ({rescan}); if it fails again, run the headless scan with -v for the full log")
    }
}

fn last_used(u: Option<&KeyLastUsed>, now: Timestamp) -> String {
    match u {
        None => "never".into(),
        Some(u) => {
            let mut s = format!("{} ({})", ago(u.date, now), u.date.format("%Y-%m-%d"));
            if let Some(svc) = &u.service {
                s.push_str(&format!(" by {svc}"));
            }
            if let Some(r) = &u.region {
                s.push_str(&format!(" in {r}"));
            }
            s
        }
    }
}

/// `2026-11-30 (1 day ago)`: a date (UTC) with its age in days.
fn dated(t: Timestamp, now: Timestamp) -> String {
    format!(
        "{} ({} ago)",
        t.format("%Y-%m-%d"),
        plural(age_days(t, now), "day", "days")
    )
}

fn key_facts(d: &mut Detail, k: &AccessKey, now: Timestamp, theme: &Theme) {
    d.field("key", k.id.to_string(), theme);
    d.field("status", k.status.as_str(), theme);
    d.field("created", dated(k.created, now), theme);
    d.field("last used", last_used(k.last_used.as_ref(), now), theme);
}

fn user_facts(d: &mut Detail, u: &User, now: Timestamp, theme: &Theme) {
    d.field("ARN", u.arn.clone(), theme);
    d.field("created", dated(u.created, now), theme);
    let password = match (u.password_enabled, u.password_last_used) {
        (false, _) => "none".to_owned(),
        (true, Some(t)) => format!("last used {} ({})", ago(t, now), t.format("%Y-%m-%d")),
        (true, None) => "never used".to_owned(),
    };
    d.field("password", password, theme);
    d.field("MFA", mfa_word(u.mfa_kind()), theme);
    d.field(
        "keys",
        format!(
            "{} active, {} inactive",
            u.active_key_count(),
            u.access_keys.len() - u.active_key_count()
        ),
        theme,
    );
}

fn root_facts(d: &mut Detail, r: &RootUser, now: Timestamp, theme: &Theme) {
    d.field(
        "MFA",
        if r.mfa_enabled {
            mfa_word(r.mfa_kind).to_owned()
        } else {
            "none".into()
        },
        theme,
    );
    if r.access_keys.is_empty() {
        d.field("keys", if r.access_keys_present { "present" } else { "none" }, theme);
    }
    for (n, k) in r.access_keys.iter().enumerate() {
        d.field(
            &format!("key {}", n + 1),
            format!(
                "{}, created {}, last used {}",
                if k.active { "active" } else { "inactive" },
                dated(k.created, now),
                last_used(k.last_used.as_ref(), now)
            ),
            theme,
        );
    }
}

/// A role's facts: ARN, path, creation, last use (and `policy`, the threshold a finding
/// judged it by, as a field of its own), then every principal its trust policy trusts,
/// exactly as written, with its account's place and its statement's conditions.
fn role_facts(d: &mut Detail, r: &Role, policy: Option<String>, now: Timestamp, theme: &Theme) {
    d.field("ARN", r.arn.clone(), theme);
    d.field("path", r.path.clone(), theme);
    d.field("created", dated(r.created, now), theme);
    d.field(
        "last used",
        match &r.last_used {
            Some(u) => format!(
                "{} ({}){}",
                ago(u.date, now),
                u.date.format("%Y-%m-%d %H:%M UTC"),
                u.region.as_ref().map(|g| format!(" in {g}")).unwrap_or_default()
            ),
            None => "never (in the 400 days IAM tracks)".into(),
        },
        theme,
    );
    if r.is_aws_managed() {
        d.field("managed", "by an AWS service: never judged unused", theme);
    }
    if let Some(policy) = policy {
        d.field("policy", policy, theme);
    }
    d.heading(format!("trusted principals ({})", r.trusted.len()), theme);
    if r.trusted.is_empty() {
        d.lines.push(Line::raw("none read (see the account's warnings)"));
    }
    for p in &r.trusted {
        let place = match (p.kind, p.in_organization) {
            (PrincipalKind::Anyone, _) => " — anyone".to_owned(),
            (_, Some(true)) => " — in the organization".to_owned(),
            (_, Some(false)) => format!(
                " — OUTSIDE the organization (account {})",
                p.account.as_ref().map(|a| a.to_string()).unwrap_or_default()
            ),
            _ => String::new(),
        };
        let conditions = if p.conditions.is_empty() {
            ", no condition".to_owned()
        } else {
            format!(", if {}", p.conditions.join(", "))
        };
        let style = if p.is_outside() {
            theme.error()
        } else {
            ratatui::style::Style::default()
        };
        // The kind as a label column, so a long principal wraps under the principal.
        d.lines.push(Line::from(vec![
            Span::styled(format!("{:<9} ", p.kind.as_str()), style),
            Span::styled(format!("{}{place}{conditions}", p.principal), style),
        ]));
    }
}

fn role_of<'a>(e: &'a AccountEntry, name: &str) -> Option<&'a Role> {
    e.scan.as_ref()?.roles.as_ref()?.iter().find(|r| r.name == name)
}

fn thresholds(policy: &Policy) -> String {
    let days = |n: u32| plural(n, "day", "days");
    format!(
        "rotate after {}, unused after {}, stale user after {}",
        days(policy.rotation_days),
        days(policy.unused_days),
        days(policy.stale_user_days)
    )
}

fn user_of<'a>(e: &'a AccountEntry, name: &str) -> Option<&'a User> {
    e.scan.as_ref()?.users.iter().find(|u| u.name == name)
}

/// The findings of `e` that `keep` selects, worst first (ties in the scan's order).
fn worst_first(e: &AccountEntry, keep: impl Fn(&Finding) -> bool) -> Vec<&Finding> {
    let mut v: Vec<&Finding> = e.findings.iter().filter(|f| keep(f)).collect();
    v.sort_by_key(|f| std::cmp::Reverse(f.severity));
    v
}

/// `findings (N)` and one line per finding, in the order given (worst first).
fn findings_section(d: &mut Detail, findings: &[&Finding], theme: &Theme) {
    d.heading(format!("findings ({})", findings.len()), theme);
    if findings.is_empty() {
        d.lines.push(Line::raw("none"));
    }
    for f in findings {
        d.finding_line(f, theme);
    }
}

/// The `status` field of a finding: its lifecycle as the `:findings` row shows it after
/// the detail ([`lifecycle_label`]: `NEW`, `open 23 d`, `excepted until …`, `REOPENED …`)
/// and the date (UTC) it was first seen; without a recorded scan, that there is none yet.
fn status_text(t: Option<&crate::triage::Triage>, now: Timestamp) -> String {
    match t {
        Some(t) => format!("{} · first seen {}", lifecycle_label(t, now), dated(t.first_seen, now)),
        None => "not tracked (no scan recorded yet)".into(),
    }
}

fn finding(
    d: &mut Detail,
    e: &AccountEntry,
    f: &Finding,
    t: Option<&crate::triage::Triage>,
    policy: &Policy,
    now: Timestamp,
    theme: &Theme,
) {
    d.lines.push(Line::from(vec![
        Span::styled(format!(" {} ", sev_label(f.severity)), theme.severity(f.severity)),
        Span::styled(format!(" {}", f.rule.id()), theme.header()),
    ]));
    d.field("status", status_text(t, now), theme);
    d.field("account", format!("{} ({})", e.account.name, e.account.id), theme);
    d.field(if f.role().is_some() { "role" } else { "user" }, f.user.clone(), theme);
    if let Some(k) = &f.access_key_id {
        d.field("key", k.to_string(), theme);
    }
    d.field("detail", f.detail.clone(), theme);
    d.field(
        "controls",
        if f.controls.is_empty() {
            "-".into()
        } else {
            f.controls.join(", ")
        },
        theme,
    );
    d.heading("evidence", theme);
    let scan = e.scan.as_ref();
    if let Some(name) = f.role() {
        let threshold = format!("unused role after {}", plural(policy.unused_role_days, "day", "days"));
        match role_of(e, name) {
            Some(r) => role_facts(d, r, Some(threshold), now, theme),
            None => {
                d.lines.push(Line::raw("the role is not in the latest scan"));
                d.field("policy", threshold, theme);
            }
        }
        d.heading("what to do", theme);
        d.lines.push(Line::raw(what_to_do(f.rule)));
        return;
    }
    if is_root(&f.user) {
        match scan.and_then(|s| s.root.as_ref()) {
            Some(r) => root_facts(d, r, now, theme),
            None => d.lines.push(Line::raw("the root user's facts were not read")),
        }
    } else if let Some(u) = user_of(e, &f.user) {
        match f
            .access_key_id
            .as_ref()
            .and_then(|id| u.access_keys.iter().find(|k| &k.id == id))
        {
            Some(k) => {
                key_facts(d, k, now, theme);
                let password = if u.password_enabled {
                    "console password"
                } else {
                    "no console password"
                };
                d.field("user", format!("{password}, MFA {}", mfa_word(u.mfa_kind())), theme);
            }
            None => user_facts(d, u, now, theme),
        }
    }
    d.field("policy", thresholds(policy), theme);
    d.heading("what to do", theme);
    d.lines.push(Line::raw(what_to_do(f.rule)));
}

/// The popup of a finding the last recorded scan resolved (a `:changes` row): what the
/// history keeps of it (rule, subject, severity, first seen) and when it was resolved. The
/// history keeps no detail text of a gone finding: the popup says so and names `keytriage
/// diff`, which lists what changed between recorded scans. `None` when it is not among the
/// resolved findings either.
fn resolved(
    store: &Store,
    e: &AccountEntry,
    user: &str,
    key: Option<&crate::model::AccessKeyId>,
    rule: &str,
    now: Timestamp,
    theme: &Theme,
) -> Option<Detail> {
    let (changes, gone) = store.changes.as_ref()?;
    let r = gone.iter().find(|r| {
        r.id.account_id == e.account.id
            && r.id.user == user
            && r.id.access_key_id.as_ref() == key
            && r.id.rule.id() == rule
    })?;
    let mut d = Detail::new(format!("resolved finding {rule}"));
    d.lines.push(Line::from(vec![
        Span::styled(" ✓ RESOLVED ", theme.header()),
        Span::styled(format!(" {rule}"), theme.header()),
    ]));
    let resolved_at = match e.scanned_at {
        Some(t) => format!("by the scan of {}", t.format("%Y-%m-%d %H:%M UTC")),
        None => "by the latest recorded scan".into(),
    };
    let open_for = age_days(r.first_seen, e.scanned_at.unwrap_or(now));
    d.field(
        "status",
        format!("resolved {resolved_at}, after {} open", plural(open_for, "day", "days")),
        theme,
    );
    d.field("account", format!("{} ({})", e.account.name, e.account.id), theme);
    let role = rule.starts_with("role-");
    d.field(if role { "role" } else { "user" }, r.id.user.clone(), theme);
    if let Some(k) = &r.id.access_key_id {
        d.field(if role { "role id" } else { "key" }, k.to_string(), theme);
    }
    d.field("severity", sev_label(r.severity), theme);
    d.field("first seen", dated(r.first_seen, now), theme);
    if let Some(t) = changes.previous_scan_at {
        d.field(
            "last seen",
            format!("in the scan of {}", t.format("%Y-%m-%d %H:%M UTC")),
            theme,
        );
    }
    d.field(
        "detail",
        "not kept: the history records a finding's rule, subject, severity and dates, not its \
         text; `keytriage diff` lists what changed between the last two recorded scans",
        theme,
    );
    d.heading("what to do", theme);
    d.lines.push(Line::raw(
        "nothing while it stays gone: the latest scan did not find it (fixed, removed, or no longer \
         past the thresholds it was judged by)",
    ));
    Some(d)
}

fn account(d: &mut Detail, e: &AccountEntry, now: Timestamp, theme: &Theme) {
    use crate::model::ScanStatus;
    let a = &e.account;
    d.field("account", format!("{} ({})", a.name, a.id), theme);
    d.field("OU", a.ou_path.clone(), theme);
    d.field("email", a.email.clone(), theme);
    d.field("state", a.state.to_string(), theme);
    d.field("scan", e.scan_cell(), theme);
    let skipped = e.scan.as_ref().is_some_and(|s| s.scan.status == ScanStatus::Skipped);
    if let Some(s) = &e.scan {
        match &s.scan.error {
            // Skipped on purpose (not ACTIVE): not an error, nothing to fix.
            Some(err) if skipped => {
                d.heading("skipped (not an error)", theme);
                d.lines.push(Line::raw(err.message.clone()));
                d.lines.push(Line::raw(
                    "nothing to do: only ACTIVE accounts are read; it is read once it is ACTIVE again",
                ));
            }
            Some(err) => {
                d.heading("scan error", theme);
                d.lines
                    .push(Line::styled(format!("{} [{}]", err.message, err.code), theme.error()));
                d.heading("what to do", theme);
                d.lines.push(Line::raw(error_hint(&err.code)));
            }
            None => {}
        }
        for w in &s.scan.warnings {
            d.field("warning", w.clone(), theme);
        }
        d.heading("root user", theme);
        match &s.root {
            Some(r) => root_facts(d, r, now, theme),
            None if skipped => d.lines.push(Line::raw("not read (the account is skipped)")),
            None => d.lines.push(Line::raw("not read")),
        }
    }
    let scan = e.scan.as_ref().map(|s| &s.scan);
    if skipped {
        d.heading("findings", theme);
        d.lines.push(Line::styled(
            "none read: the account is skipped, not scanned",
            theme.muted(),
        ));
        return;
    }
    if !scan.is_some_and(|s| s.status == ScanStatus::Ok || s.partial) {
        d.heading("findings", theme);
        // An account that was not read must never look clean.
        d.lines.push(Line::styled(
            "unknown: the account was not read (see its scan status)",
            theme.error(),
        ));
        return;
    }
    // The account's totals, then the root user's findings, each labelled as what it is:
    // the users' findings are one Enter away, the root user's are only here.
    let root = worst_first(e, |f| is_root(&f.user));
    d.heading(format!("findings, whole account ({})", e.findings.len()), theme);
    let mut counts = String::new();
    for s in Severity::ALL.iter().take(4) {
        let n = e.findings.iter().filter(|f| f.severity == *s).count();
        counts.push_str(&format!("{} {n}  ", sev_label(*s)));
    }
    if scan.is_some_and(|s| s.partial) {
        counts.push_str("(partial: only the users read in full)");
    }
    d.lines.push(Line::raw(counts.trim_end().to_owned()));
    d.lines.push(Line::raw(format!(
        "root user {} (below) · IAM users and roles {} (Enter lists the users)",
        root.len(),
        e.findings.len() - root.len()
    )));
    d.heading(format!("root user's findings ({})", root.len()), theme);
    if root.is_empty() {
        d.lines.push(Line::raw("none"));
    }
    for f in root {
        d.finding_line(f, theme);
    }
}

/// The popup's content for the row `id`; `None` when the row is gone from the store.
pub fn build(id: &RowId, store: &Store, policy: &Policy, now: Timestamp, theme: &Theme) -> Option<Detail> {
    match id {
        RowId::Account(a) => {
            let e = store.entry(a)?;
            let mut d = Detail::new(format!("account {}", e.account.name));
            account(&mut d, e, now, theme);
            Some(d)
        }
        RowId::User(a, name) => {
            let e = store.entry(a)?;
            let mine = worst_first(e, |f| f.user == name && f.role().is_none());
            let mut d = Detail::new(format!("user {name} · {}", e.account.name));
            d.field("account", format!("{} ({})", e.account.name, e.account.id), theme);
            if is_root(name) {
                match e.scan.as_ref().and_then(|s| s.root.as_ref()) {
                    Some(r) => root_facts(&mut d, r, now, theme),
                    None => d.lines.push(Line::raw("the root user's facts were not read")),
                }
            } else {
                user_facts(&mut d, user_of(e, name)?, now, theme);
            }
            findings_section(&mut d, &mine, theme);
            if let Some(f) = mine.first() {
                d.heading(format!("what to do first ({})", f.rule.id()), theme);
                d.lines.push(Line::raw(what_to_do(f.rule)));
            }
            Some(d)
        }
        RowId::Credential(a, name, c) => {
            let e = store.entry(a)?;
            let cred = store.credential(a, name, c)?;
            let mine = worst_first(e, |f| f.user == name && f.credential.as_ref() == Some(c));
            let mut d = Detail::new(format!("{} {}", c.kind.label(), c.id));
            d.field("account", format!("{} ({})", e.account.name, e.account.id), theme);
            d.field("user", name.clone(), theme);
            d.field("status", cred.status.as_str(), theme);
            d.field("created", dated(cred.created, now), theme);
            if let Some(service) = &cred.service {
                d.field("service", service.clone(), theme);
            }
            if c.kind != crate::model::CredentialKind::SshPublicKey {
                d.field("expires", super::dialog::expiry_text(cred.expires, now), theme);
            }
            d.field("last used", super::views::no_last_use(c.kind), theme);
            findings_section(&mut d, &mine, theme);
            for f in &mine {
                d.heading(format!("what to do ({})", f.rule.id()), theme);
                d.lines.push(Line::raw(what_to_do(f.rule)));
            }
            Some(d)
        }
        RowId::Password(a, name) => {
            let e = store.entry(a)?;
            let u = store.user(a, name)?;
            let mine = worst_first(e, |f| {
                f.user == name
                    && matches!(
                        f.rule,
                        crate::audit::Rule::ConsoleWithoutMfa | crate::audit::Rule::PasswordUnused
                    )
            });
            let mut d = Detail::new(format!("console password of {name}"));
            d.field("account", format!("{} ({})", e.account.name, e.account.id), theme);
            d.field("user", name.clone(), theme);
            d.field("enabled", if u.password_enabled { "yes" } else { "no" }, theme);
            d.field(
                "last sign-in",
                u.password_last_used
                    .map(|t| dated(t, now))
                    .unwrap_or_else(|| "never".into()),
                theme,
            );
            findings_section(&mut d, &mine, theme);
            for f in &mine {
                d.heading(format!("what to do ({})", f.rule.id()), theme);
                d.lines.push(Line::raw(what_to_do(f.rule)));
            }
            Some(d)
        }
        RowId::Key(a, name, key) => {
            let e = store.entry(a)?;
            let k = store.key(a, name, key)?;
            let mine = worst_first(e, |f| f.access_key_id.as_ref() == Some(key));
            let mut d = Detail::new(format!("access key {key}"));
            d.field("account", format!("{} ({})", e.account.name, e.account.id), theme);
            d.field("user", name.clone(), theme);
            key_facts(&mut d, k, now, theme);
            if let Some(r) = user_of(e, name).and_then(|u| crate::audit::rotation::in_progress(u, policy, now)) {
                d.field("rotation", r.summary(now), theme);
            }
            findings_section(&mut d, &mine, theme);
            for f in &mine {
                d.heading(format!("what to do ({})", f.rule.id()), theme);
                d.lines.push(Line::raw(what_to_do(f.rule)));
            }
            Some(d)
        }
        RowId::Finding(a, user, key, rule) => {
            let e = store.entry(a)?;
            let Some(f) = e
                .findings
                .iter()
                .find(|f| f.user == user && &f.access_key_id == key && f.rule.id() == *rule)
            else {
                return resolved(store, e, user, key.as_ref(), rule, now, theme);
            };
            let mut d = Detail::new(format!("finding {rule}"));
            let t = store.triage.get(&crate::triage::FindingId::of(f));
            finding(&mut d, e, f, t, policy, now, theme);
            Some(d)
        }
        RowId::Role(a, name) => {
            let e = store.entry(a)?;
            let r = role_of(e, name)?;
            let mine = worst_first(e, |f| f.role() == Some(name.as_str()));
            let mut d = Detail::new(format!("role {name} · {}", e.account.name));
            d.field("account", format!("{} ({})", e.account.name, e.account.id), theme);
            role_facts(&mut d, r, None, now, theme);
            findings_section(&mut d, &mine, theme);
            for f in &mine {
                d.heading(format!("what to do ({})", f.rule.id()), theme);
                d.lines.push(Line::raw(what_to_do(f.rule)));
            }
            Some(d)
        }
        RowId::Group(rule, account) => {
            let mut d = Detail::new(format!(
                "findings of {} in {}",
                rule.unwrap_or("every rule"),
                account
                    .as_ref()
                    .map_or_else(|| "every account".to_owned(), ToString::to_string)
            ));
            if let Some(r) = rule.and_then(|id| Rule::ALL.into_iter().find(|r| r.id() == id)) {
                d.heading(format!("what to do ({id})", id = r.id()), theme);
                d.lines.push(Line::raw(what_to_do(r)));
            }
            d.lines.push(Line::raw("Enter lists the group's findings"));
            Some(d)
        }
        RowId::Journal(action_id, intent) => {
            let j = store
                .journal
                .iter()
                .find(|j| &j.action_id == action_id && (j.phase == crate::journal::Phase::Intent) == *intent)?;
            let mut d = Detail::new(format!("journal {action_id}"));
            d.field("time", j.time.format("%Y-%m-%d %H:%M:%S UTC").to_string(), theme);
            d.field("action", j.action.journal_name(), theme);
            d.field(
                "result",
                j.result
                    .map(|r| format!("{r:?}").to_lowercase())
                    .unwrap_or_else(|| "intent (no outcome yet)".into()),
                theme,
            );
            d.field("operator", j.operator.clone(), theme);
            d.field(
                "account",
                format!(
                    "{} ({})",
                    super::views::account_name(store, &j.account_id),
                    j.account_id
                ),
                theme,
            );
            d.field("user", j.user.clone(), theme);
            // The credential acted on, kind and id: an access key, another kind of
            // credential, or (for disabling console access) the console password.
            match (&j.access_key_id, &j.credential, j.action) {
                (Some(k), _, _) => d.field("key", k.to_string(), theme),
                (None, Some(c), _) => d.field("credential", format!("{} {}", c.kind.label(), c.id), theme),
                (None, None, crate::model::KeyAction::DisableConsole) => {
                    d.field("credential", "console password".to_owned(), theme)
                }
                (None, None, _) => d.field("key", "-".to_owned(), theme),
            }
            d.field("request id", j.request_id.clone().unwrap_or_else(|| "-".into()), theme);
            d.field("error", j.error_code.clone().unwrap_or_else(|| "-".into()), theme);
            d.field("message", j.message.clone().unwrap_or_else(|| "-".into()), theme);
            Some(d)
        }
    }
}

/// A line with a label column (every span but the last, ending in a space and at most 20
/// cells wide: a field's label, a finding's severity badge, a help line's keys) wrapped to
/// `width` cells with its continuation lines indented under the value (the last span), so
/// the label column stays clear; any other line, or one that fits, as it is (the paragraph
/// wraps it).
fn hang(line: &Line<'static>, width: usize) -> Vec<Line<'static>> {
    let Some((value, label)) = line.spans.split_last() else {
        return vec![line.clone()];
    };
    let indent: usize = label.iter().map(Span::width).sum();
    let labelled = !label.is_empty()
        && label.last().is_some_and(|s| s.content.ends_with(' '))
        && indent <= 20
        && indent + 10 <= width;
    if !labelled || line.width() <= width {
        return vec![line.clone()];
    }
    let room = width - indent;
    let (mut rows, mut row) = (Vec::new(), String::new());
    for word in value.content.split(' ') {
        if !row.is_empty() && row.width() + 1 + word.width() > room {
            rows.push(std::mem::take(&mut row));
        } else if !row.is_empty() {
            row.push(' ');
        }
        // A word longer than the room is cut where the room ends.
        for c in word.chars() {
            if row.width() + c.width().unwrap_or(0) > room {
                rows.push(std::mem::take(&mut row));
            }
            row.push(c);
        }
    }
    rows.push(row);
    rows.into_iter()
        .enumerate()
        .map(|(i, text)| {
            let mut spans = if i == 0 {
                label.to_vec()
            } else {
                vec![Span::raw(" ".repeat(indent))]
            };
            spans.push(Span::styled(text, value.style));
            Line::from(spans)
        })
        .collect()
}

/// Draws `detail` in a popup over `area`, scrolled down `scroll` lines (clamped to the
/// end). Returns the scroll actually used.
pub fn render(detail: &Detail, scroll: u16, area: Rect, buf: &mut Buffer, theme: &Theme) -> u16 {
    let w = area.width.saturating_sub(4).clamp(area.width.min(20), 100);
    let inner_w = usize::from(w.saturating_sub(2)).max(1);
    let lines: Vec<Line<'static>> = detail.lines.iter().flat_map(|l| hang(l, inner_w)).collect();
    let wrapped: usize = lines.iter().map(|l| l.width().max(1).div_ceil(inner_w)).sum();
    let wrapped = u16::try_from(wrapped).unwrap_or(u16::MAX);
    let h = wrapped
        .saturating_add(2)
        .min(area.height.saturating_sub(2).max(area.height.min(3)));
    let popup = centered(area, w, h);
    let visible = popup.height.saturating_sub(2);
    let scroll = scroll.min(wrapped.saturating_sub(visible));
    let more = if wrapped > visible + scroll { " ↓ more " } else { "" };
    Clear.render(popup, buf);
    Paragraph::new(lines)
        .wrap(Wrap { trim: false })
        .scroll((scroll, 0))
        .block(
            Block::default()
                .borders(Borders::ALL)
                .border_style(theme.border())
                .title(Span::styled(format!(" {} ", detail.title), theme.accent()))
                .title_bottom(Line::styled(
                    format!(
                        " {} closes · {}/{} scroll{more}",
                        key_of(Action::Back),
                        key_of(Action::Down),
                        key_of(Action::Up)
                    ),
                    theme.muted(),
                )),
        )
        .render(popup, buf);
    scroll
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(lines: &[Line<'_>]) -> Vec<String> {
        lines
            .iter()
            .map(|l| l.spans.iter().map(|s| s.content.as_ref()).collect())
            .collect()
    }

    #[test]
    fn a_wrapped_field_continues_under_its_value_not_under_its_label() {
        let theme = Theme { no_color: true };
        let mut d = Detail::new("t");
        d.field(
            "key 1",
            "active, created 2020-08-14, last used 12d ago by s3 in eu-west-1",
            &theme,
        );
        let rows = hang(&d.lines[0], 40);
        assert_eq!(
            text(&rows),
            [
                "key 1      active, created 2020-08-14,",
                "           last used 12d ago by s3 in",
                "           eu-west-1",
            ]
        );
        // A word longer than the room is cut where the room ends.
        d.field("arn", "arn:aws:iam::123456789012:user/a-very-long-user-name", &theme);
        assert_eq!(
            text(&hang(&d.lines[1], 40)),
            [
                "arn        arn:aws:iam::123456789012:use",
                "           r/a-very-long-user-name",
            ]
        );
        // A line that fits, or one without a label column, is left to the paragraph.
        assert_eq!(hang(&d.lines[0], 100).len(), 1);
        let plain = Line::from(vec![Span::raw("HIGH"), Span::raw(" key-not-rotated: ".repeat(5))]);
        assert_eq!(hang(&plain, 40).len(), 1);
    }
}
