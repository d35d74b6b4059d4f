//! The dialogs of the write flow: the confirmation (Cancel focused by default), the one-time
//! display of a new secret, and the popup they and the progress notes and messages are drawn
//! in. Which dialog is open, and what comes next, is [`super::write_flow`]'s business: a
//! dialog only turns keys into a [`DialogOutcome`].

use super::table::truncate;
use super::theme::Theme;
use super::views::ago;
use crate::aws::remediate::NewKey;
use crate::model::{AccessKey, AccessKeyId, Account, Credential, KeyAction, Target, Timestamp, age_days};
use crate::remediate::{Live, WriteRequest};
use crossterm::event::{KeyCode, KeyEvent};
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::Modifier;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Widget, Wrap};
use secrecy::ExposeSecret;
use std::sync::Arc;

/// The confirmation of one write.
#[derive(Debug)]
pub struct Confirm {
    /// The write.
    pub request: WriteRequest,
    /// Description lines (account, user, key, age, last use).
    pub lines: Vec<String>,
    /// Warnings, each on its own line (recent use, what a rotation step means…).
    pub warnings: Vec<String>,
    /// Focus on the confirm button (Cancel has it by default).
    pub confirm_focused: bool,
    /// For deleting an active key: the last 4 characters the operator must type.
    pub must_type: Option<String>,
    /// What was typed.
    pub typed: String,
    /// Label of the cancel button ("Cancel", or "Later").
    pub cancel_label: &'static str,
}

/// The one-time display of a new key.
#[derive(Debug)]
pub struct ShowSecret {
    /// The new key (the only copy of its secret; dropped, and zeroized, when the dialog closes).
    pub key: Arc<NewKey>,
    /// Account and user it belongs to.
    pub account: Account,
    /// The user.
    pub user: String,
    /// The key being replaced, to offer deactivating after this dialog.
    pub old_key: Option<AccessKeyId>,
    /// The file path being typed.
    pub path: String,
    /// Where it was saved, once saved.
    pub saved: Option<String>,
    /// The last save error, or the "not saved" warning.
    pub note: Option<String>,
    /// Esc was pressed once without saving.
    pub armed_close: bool,
}

/// What a key press in a dialog asks the write flow to do.
#[derive(Debug, PartialEq, Eq)]
pub enum DialogOutcome {
    /// Keep the dialog open.
    Stay,
    /// Close it (cancel, or acknowledge a message).
    Close,
    /// Confirmed: make the write.
    Confirmed(Box<WriteRequest>),
    /// Save the secret to this path.
    Save(String),
    /// The secret dialog closed (saved, or Esc twice).
    SecretClosed,
}

/// "used 2 days ago by s3 in eu-west-1" or "never used".
pub fn last_use_text(k: &AccessKey, now: Timestamp) -> String {
    match &k.last_used {
        None => "never used".into(),
        Some(u) => {
            let mut s = format!("used {}", ago(u.date, now));
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

impl Confirm {
    /// The confirmation of `action` on `key`: names account, user and key, shows last use,
    /// warns when the key was used in the last 7 days, and asks for the last 4 characters
    /// before deleting an active key. The request carries the status and last use shown, so
    /// the write is refused if the key was used since.
    pub fn new(action: KeyAction, account: &Account, user: &str, key: &AccessKey, now: Timestamp) -> Self {
        Self::for_key(WriteRequest::new(action, account, user, key), key, now)
    }

    /// The confirmation of `request` built from its target as read `live`: an access key as
    /// [`Confirm::new`]; an SSH key, certificate or service-specific credential with its kind,
    /// id, status, age and expiry (deleting an active one asks for the id's last 4
    /// characters); the console password with its last sign-in, saying that disabling console
    /// access cannot be undone and asking for the user name. The request takes the live
    /// status and last use, so the write is refused if they change again.
    pub fn from_live(request: &WriteRequest, live: &Live, now: Timestamp) -> Self {
        let mut request = request.clone();
        request.status = live.status();
        request.last_used = live.last_used();
        match live {
            Live::Key(k) => Self::new(request.action, &request.account, &request.user, k, now),
            Live::Credential(c) => Self::for_credential(request, c, now),
            Live::Password { last_used } => Self::for_password(request, *last_used, now),
        }
    }

    fn with(request: WriteRequest, lines: Vec<String>, warnings: Vec<String>) -> Self {
        Self {
            must_type: request.must_type(),
            request,
            lines,
            warnings,
            confirm_focused: false,
            typed: String::new(),
            cancel_label: "Cancel",
        }
    }

    fn for_credential(request: WriteRequest, c: &Credential, now: Timestamp) -> Self {
        let mut lines = vec![
            format!("account   {} ({})", request.account.name, request.account.id),
            format!("user      {}", request.user),
            format!(
                "{:<9} {} ({}, {} old)",
                match c.kind {
                    crate::model::CredentialKind::SshPublicKey => "SSH key",
                    crate::model::CredentialKind::SigningCertificate => "cert",
                    crate::model::CredentialKind::ServiceSpecific => "service",
                    crate::model::CredentialKind::Role => "role",
                },
                c.id,
                c.status.as_str(),
                crate::text::plural(age_days(c.created, now), "day", "days")
            ),
        ];
        if let Some(service) = &c.service {
            lines.push(format!("for       {service}"));
        }
        if c.kind != crate::model::CredentialKind::SshPublicKey {
            lines.push(format!("expires   {}", expiry_text(c.expires, now)));
        }
        lines.push(format!("last use  {}", super::views::no_last_use(c.kind)));
        let mut warnings = Vec::new();
        if request.action == KeyAction::Delete {
            warnings.push("deleting cannot be undone".into());
        }
        Self::with(request, lines, warnings)
    }

    fn for_password(request: WriteRequest, last_used: Option<Timestamp>, now: Timestamp) -> Self {
        let lines = vec![
            format!("account   {} ({})", request.account.name, request.account.id),
            format!("user      {}", request.user),
            "password  console password (enabled)".to_owned(),
            format!(
                "last use  {}",
                match last_used {
                    Some(t) => format!("signed in {}", ago(t, now)),
                    None => "never signed in".to_owned(),
                }
            ),
        ];
        let mut warnings = vec![
            "this cannot be undone: the password is deleted, and a new password must be set to give console access back"
                .to_owned(),
        ];
        if last_used.is_some_and(|t| age_days(t, now) <= 7) {
            warnings.push("signed in within the last 7 days: someone may still use the console".into());
        }
        Self::with(request, lines, warnings)
    }

    fn for_key(request: WriteRequest, key: &AccessKey, now: Timestamp) -> Self {
        let action = request.action;
        let (account, user) = (&request.account, request.user.as_str());
        let recent = key.last_used.as_ref().is_some_and(|u| age_days(u.date, now) <= 7);
        let mut warnings = Vec::new();
        if recent && matches!(action, KeyAction::Deactivate | KeyAction::Delete) {
            let what = if key.is_active() {
                "may break the workload that uses it"
            } else {
                "it was in use until recently"
            };
            warnings.push(format!("{}: {} {what}", last_use_text(key, now), action.ing()));
        }
        match action {
            KeyAction::Rotate => warnings
                .push("a new key is created and shown once; this key stays active until you deactivate it".into()),
            KeyAction::Delete => warnings.push("deleting cannot be undone".into()),
            _ => {}
        }
        let lines = vec![
            format!("account   {} ({})", account.name, account.id),
            format!("user      {user}"),
            format!(
                "key       {} ({}, {} old)",
                key.id,
                key.status.as_str(),
                crate::text::plural(age_days(key.created, now), "day", "days")
            ),
            format!("last use  {}", last_use_text(key, now)),
        ];
        Self::with(request, lines, warnings)
    }

    fn typed_ok(&self) -> bool {
        self.must_type
            .as_ref()
            .is_none_or(|m| m.eq_ignore_ascii_case(&self.typed))
    }

    /// Handles a key.
    pub fn on_key(&mut self, key: KeyEvent) -> DialogOutcome {
        match key.code {
            KeyCode::Esc => DialogOutcome::Close,
            KeyCode::Tab | KeyCode::BackTab | KeyCode::Left | KeyCode::Right => {
                self.confirm_focused = !self.confirm_focused;
                DialogOutcome::Stay
            }
            KeyCode::Enter if self.confirm_focused && self.typed_ok() => {
                DialogOutcome::Confirmed(Box::new(self.request.clone()))
            }
            KeyCode::Enter if self.confirm_focused => DialogOutcome::Stay,
            KeyCode::Enter => DialogOutcome::Close,
            KeyCode::Backspace if self.must_type.is_some() => {
                self.typed.pop();
                DialogOutcome::Stay
            }
            KeyCode::Char(c) if self.must_type.is_some() => {
                let limit = self.must_type.as_ref().map_or(4, |m| m.chars().count().max(4));
                if self.typed.chars().count() < limit {
                    self.typed.push(c);
                }
                DialogOutcome::Stay
            }
            KeyCode::Char('y') => DialogOutcome::Confirmed(Box::new(self.request.clone())),
            KeyCode::Char('n') => DialogOutcome::Close,
            _ => DialogOutcome::Stay,
        }
    }
}

impl ShowSecret {
    /// The dialog for a key just created; the path defaults to
    /// [`crate::secret_file::default_path_text`] (a private folder in the data dir).
    pub fn new(key: Arc<NewKey>, account: Account, user: String, old_key: Option<AccessKeyId>) -> Self {
        let path = crate::secret_file::default_path_text(&user, &key.id);
        Self {
            key,
            account,
            user,
            old_key,
            path,
            saved: None,
            note: None,
            armed_close: false,
        }
    }

    /// Handles a key.
    pub fn on_key(&mut self, key: KeyEvent) -> DialogOutcome {
        match key.code {
            KeyCode::Esc if self.saved.is_some() || self.armed_close => DialogOutcome::SecretClosed,
            KeyCode::Esc => {
                self.armed_close = true;
                self.note = Some("not saved: press Esc again to close, and the secret is gone for good".into());
                DialogOutcome::Stay
            }
            KeyCode::Enter if self.saved.is_none() => DialogOutcome::Save(self.path.clone()),
            KeyCode::Backspace if self.saved.is_none() => {
                self.path.pop();
                DialogOutcome::Stay
            }
            KeyCode::Char(c) if self.saved.is_none() => {
                self.armed_close = false;
                self.path.push(c);
                DialogOutcome::Stay
            }
            _ => DialogOutcome::Stay,
        }
    }
}

/// When a credential stops working: `in 12 days (2026-12-13)`, `expired 15 days ago
/// (2026-11-16)`, `never`.
pub fn expiry_text(expires: Option<Timestamp>, now: Timestamp) -> String {
    match expires {
        None => "never".into(),
        Some(t) if t <= now => format!("expired {} ({})", ago(t, now), t.format("%Y-%m-%d")),
        Some(t) => format!(
            "in {} ({})",
            crate::text::plural((t - now).num_days(), "day", "days"),
            t.format("%Y-%m-%d")
        ),
    }
}

/// The lines of a message: the text, then how to close it.
pub fn message_lines<'a>(text: &str, error: bool, theme: &Theme) -> Vec<Line<'a>> {
    let style = if error { theme.error() } else { theme.header() };
    let mut lines: Vec<Line> = text.lines().map(|l| Line::styled(l.to_owned(), style)).collect();
    lines.push(Line::from(""));
    lines.push(Line::styled("Enter or Esc closes", theme.muted()));
    lines
}

/// Keys of a message: Enter, Esc, q or Space close it.
pub fn message_key(key: KeyEvent) -> DialogOutcome {
    match key.code {
        KeyCode::Esc | KeyCode::Enter | KeyCode::Char('q') | KeyCode::Char(' ') => DialogOutcome::Close,
        _ => DialogOutcome::Stay,
    }
}

/// Draws a dialog titled `title` with `lines`, centred in `area` and clamped to it.
pub fn popup(title: &str, lines: Vec<Line>, area: Rect, buf: &mut Buffer, theme: &Theme) {
    let width = 78.min(area.width);
    let inner_w = width.saturating_sub(2).max(1) as usize;
    let wrapped: usize = lines.iter().map(|l| l.width().max(1).div_ceil(inner_w)).sum();
    let height = (wrapped as u16 + 2).min(area.height);
    let popup = super::render::centered(area, width, height);
    Clear.render(popup, buf);
    Paragraph::new(lines)
        .wrap(Wrap { trim: false })
        .block(
            Block::default()
                .borders(Borders::ALL)
                .title(Span::styled(truncate(title, width), theme.accent())),
        )
        .render(popup, buf);
}

fn button(label: &str, focused: bool, theme: &Theme) -> Span<'static> {
    let text = if focused {
        format!("[> {label} <]")
    } else {
        format!("[  {label}  ]")
    };
    if focused {
        Span::styled(text, theme.header().add_modifier(Modifier::REVERSED))
    } else {
        Span::raw(text)
    }
}

/// The lines of a confirmation: description, warnings, the typed characters, the buttons.
pub fn confirm_lines<'a>(c: &Confirm, theme: &Theme) -> Vec<Line<'a>> {
    let mut lines: Vec<Line> = c.lines.iter().map(|l| Line::from(l.clone())).collect();
    for w in &c.warnings {
        lines.push(Line::styled(format!("! {w}"), theme.error()));
    }
    if let Some(m) = &c.must_type {
        let blanks = "_".repeat(m.chars().count().saturating_sub(c.typed.chars().count()));
        lines.push(Line::from(match &c.request.target {
            Target::ConsolePassword => format!("type the user name ({m}) to confirm: {}{blanks}", c.typed),
            Target::AccessKey(_) => format!(
                "type the key's last 4 characters ({}) to confirm: {}{blanks}",
                "*".repeat(m.len()),
                c.typed
            ),
            Target::Credential(_) => format!(
                "type the id's last 4 characters ({}) to confirm: {}{blanks}",
                "*".repeat(m.len()),
                c.typed
            ),
        }));
    }
    lines.push(Line::from(""));
    lines.push(Line::from(vec![
        Span::raw("      "),
        button(c.cancel_label, !c.confirm_focused, theme),
        Span::raw("   "),
        button(c.request.action.label(), c.confirm_focused, theme),
    ]));
    let keys = if c.must_type.is_some() {
        "Tab switch · Enter choose · Esc cancel"
    } else {
        "Tab switch · Enter choose · y confirm · Esc cancel"
    };
    lines.push(Line::styled(keys, theme.muted()));
    lines
}

/// The lines of the secret dialog; the secret is borrowed, never copied.
pub fn secret_lines<'a>(s: &'a ShowSecret, theme: &Theme) -> Vec<Line<'a>> {
    let mut lines = vec![
        Line::from(format!("account          {} ({})", s.account.name, s.account.id)),
        Line::from(format!("AccessKeyId      {}", s.key.id)),
        Line::from(vec![
            Span::raw("SecretAccessKey  "),
            // Borrowed, never copied into a String that would outlive the frame.
            Span::styled(s.key.secret.expose_secret(), theme.header()),
        ]),
        Line::from(""),
    ];
    match &s.saved {
        Some(p) if p.starts_with("Secrets Manager") => lines.push(Line::styled(format!("stored: {p}"), theme.accent())),
        Some(p) => lines.push(Line::styled(format!("saved to {p} (mode 0600)"), theme.accent())),
        None => {
            lines.push(Line::from(
                "save as a credentials file (mode 0600, never overwrites), or sm:[ACCOUNT:][REGION:]NAME for Secrets Manager:",
            ));
            lines.push(Line::styled(format!("> {}█", s.path), theme.header()));
        }
    }
    if let Some(n) = &s.note {
        lines.push(Line::styled(n.clone(), theme.error()));
    }
    lines.push(Line::styled(
        if s.saved.is_some() {
            "Esc closes; the secret is then forgotten"
        } else {
            "Enter save · Esc close (the secret is then gone)"
        },
        theme.muted(),
    ));
    lines
}
