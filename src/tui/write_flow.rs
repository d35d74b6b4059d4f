//! The write flow: every step of a write on an access key, from the confirmation to the
//! result, as one state machine. [`Step`] names the steps; [`WriteFlow::transition`] is the
//! one place that says what follows each (a key in a dialog, a write's result, a saved
//! secret). The flow owns the open dialog; [`super::app::App`] forwards keys and write events
//! to it while it is open, applies its [`Reaction`] (effects for the loop, a footer message,
//! the user's keys as re-read) and draws it on top.
//!
//! Every confirmation is built from the target as read live (an access key's status and last
//! use, another credential's status, the console password's last sign-in, through
//! [`crate::remediate::Remediator::live_target`]): `Reading` → `Confirm` → `Writing`. A target
//! that vanished or changed status since the scan ends in a `Message` saying so.
//!
//! A rotation: `Reading` → `Confirm` → `Writing` (create) → `Verifying` → `ShowSecret` →
//! `Reading` → `DeactivateOld` → `Writing` (deactivate). `Verifying` signs
//! `sts:GetCallerIdentity` with the new key, retrying with a countdown for IAM's propagation
//! delay ([`crate::remediate::Remediator::verify_new_key`]); the secret is shown either way
//! (it exists only once), but a key that failed verification never leads to `DeactivateOld`:
//! closing its secret ends in a `Message` saying the old key stays active. At the two-key limit: `Writing` (create) →
//! `Reading` → `DeleteInactiveFirst` → `Writing` (delete, then create) → `ShowSecret`… A key
//! used between the confirmation and the write: `Writing` → `Reconfirm` (with the live last
//! use) → `Writing`.

use super::app::{Effect, Flash};
use super::dialog::{self, Confirm, DialogOutcome, ShowSecret};
use super::store::Store;
use super::store::UserUpdate;
use super::theme::Theme;
use crate::aws::remediate::NewKey;
use crate::model::{AccessKey, AccessKeyId, AccountId, KeyAction, Target, Timestamp};
use crate::remediate::{Done, Live, RemediateError, WriteRequest, last_use_utc};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::Line;
use std::sync::Arc;

/// The step the write flow is at.
#[derive(Debug, Default)]
pub enum Step {
    /// No write under way; no dialog.
    #[default]
    Idle,
    /// Reading the key live (status and last use) before asking; the confirmation follows.
    Reading {
        /// The write to ask about, as the scan shows the key.
        request: WriteRequest,
        /// Which confirmation follows.
        purpose: Purpose,
        /// The progress note.
        text: String,
    },
    /// Asking before a write (Cancel focused).
    Confirm(Confirm),
    /// The key was used since the operator confirmed (read live just before the write):
    /// asking again, with the live last use. Nothing was written.
    Reconfirm {
        /// The confirmation, built from the key as read live.
        confirm: Confirm,
        /// The rotation to continue after this write, as in [`Step::Writing`].
        then_rotate: Option<AccessKeyId>,
    },
    /// A rotation found the user at the two-key limit with an inactive key: asking to
    /// delete that key first; the rotation of `rotate` continues after the delete.
    DeleteInactiveFirst {
        /// The delete's confirmation.
        confirm: Confirm,
        /// The key whose rotation continues.
        rotate: AccessKeyId,
    },
    /// Waiting for AWS.
    Writing {
        /// The write under way.
        request: WriteRequest,
        /// After it succeeds, rotate this key (the delete-the-inactive-key-first path).
        then_rotate: Option<AccessKeyId>,
        /// The progress note.
        text: String,
    },
    /// Verifying a new key (signing `sts:GetCallerIdentity` with it) before its secret is
    /// shown and the old key is offered for deactivation.
    Verifying {
        /// The rotation (its `key` is the key being replaced).
        request: WriteRequest,
        /// The new key, with its secret, shown next.
        key: Arc<NewKey>,
        /// Tries so far that failed.
        failed_tries: u32,
        /// Whole seconds left before verification gives up.
        left_secs: u64,
    },
    /// Showing a new secret once.
    ShowSecret(ShowSecret),
    /// The secret closed: offering to deactivate the replaced key ("Later" cancels).
    DeactivateOld(Confirm),
    /// A result or an error to acknowledge.
    Message {
        /// Title.
        title: String,
        /// Text (may span lines).
        text: String,
        /// Shown as an error.
        error: bool,
    },
}

/// Which confirmation a live read leads to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Purpose {
    /// The operator's own `d`/`a`/`x`/`r`: [`Step::Confirm`].
    Confirm,
    /// After a rotation's secret closed: [`Step::DeactivateOld`].
    DeactivateOld,
    /// A rotation at the two-key limit: [`Step::DeleteInactiveFirst`], then rotate this key.
    DeleteInactiveFirst(AccessKeyId),
}

/// What the flow asks of the app after a transition.
#[derive(Debug, Default)]
pub struct Reaction {
    /// For the loop to carry out (a write, saving the secret).
    pub effect: Option<Effect>,
    /// A footer message.
    pub flash: Option<Flash>,
    /// A user's keys as re-read after a write: `(account, user, keys)`, to replace in the store.
    pub keys: Option<(AccountId, String, Vec<AccessKey>)>,
    /// A user's other credentials or console password as re-read after a write on one of
    /// them: `(account, user, update)`, to apply to the store.
    pub user_update: Option<(AccountId, String, UserUpdate)>,
}

/// What moves the flow on.
#[derive(Debug)]
pub enum Input {
    /// A dialog's answer to a key.
    Dialog(DialogOutcome),
    /// The target of a [`Step::Reading`] as read live (or why it could not be).
    Read(WriteRequest, Result<Live, RemediateError>),
    /// Ctrl-C: closes a confirmation or a message (never a write in flight, nor the secret).
    Cancel,
    /// Deactivate, activate or delete finished.
    Applied(WriteRequest, Result<Done, RemediateError>),
    /// The create step of a rotation finished: the new key and the user's keys re-read.
    Rotated(
        WriteRequest,
        Result<(Arc<NewKey>, Option<Vec<AccessKey>>), RemediateError>,
    ),
    /// The secret file was written (its path), or not (why).
    Saved(Result<String, String>),
    /// A try of the new key failed: `(key, tries so far, seconds left)`.
    VerifyTick(AccessKeyId, u32, u64),
    /// The new key's verification ended: the ARN it signs as, or why it failed.
    Verified(AccessKeyId, Result<String, String>),
    /// The background task of a write died without reporting (a bug).
    TaskFailed(String),
}

/// The write flow's state.
#[derive(Debug, Default)]
pub struct WriteFlow {
    step: Step,
    /// The last rotation's verification: the ARN the new key signs as, or why it failed.
    verified: Option<Result<String, String>>,
}

fn message(title: impl Into<String>, text: impl Into<String>, error: bool) -> Step {
    Step::Message {
        title: title.into(),
        text: text.into(),
        error,
    }
}

/// What a write acts on, for a sentence: `AKIA…`, `SSH public key APKA…`, `the console
/// password`.
fn subject(request: &WriteRequest) -> String {
    match &request.target {
        Target::AccessKey(k) => k.to_string(),
        Target::Credential(c) => format!("{} {}", c.kind.label(), c.id),
        Target::ConsolePassword => "the console password".into(),
    }
}

fn writing(request: WriteRequest, then_rotate: Option<AccessKeyId>) -> (Step, Reaction) {
    let text = match &request.target {
        Target::ConsolePassword => format!(
            "{} {} in {}… (checking the password live first)",
            request.action.ing(),
            request.user,
            request.account.name
        ),
        Target::AccessKey(_) => format!(
            "{} {} of {} in {}… (checking the key live first)",
            request.action.ing(),
            subject(&request),
            request.user,
            request.account.name
        ),
        Target::Credential(_) => format!(
            "{} {} of {} in {}… (checking it live first)",
            request.action.ing(),
            subject(&request),
            request.user,
            request.account.name
        ),
    };
    let effect = Some(Effect::Write(request.clone()));
    (
        Step::Writing {
            request,
            then_rotate,
            text,
        },
        Reaction {
            effect,
            ..Reaction::default()
        },
    )
}

fn reading(request: WriteRequest, purpose: Purpose) -> (Step, Reaction) {
    let text = match &request.target {
        Target::AccessKey(_) => format!(
            "reading access key {} of {} in {} live (status and last use)…",
            subject(&request),
            request.user,
            request.account.name
        ),
        Target::Credential(_) => format!(
            "reading {} of {} in {} live (status)…",
            subject(&request),
            request.user,
            request.account.name
        ),
        Target::ConsolePassword => format!(
            "reading the console password of {} in {} live (last sign-in)…",
            request.user, request.account.name
        ),
    };
    let effect = Some(Effect::ReadKey(request.clone()));
    (
        Step::Reading { request, purpose, text },
        Reaction {
            effect,
            ..Reaction::default()
        },
    )
}

/// The confirmation that follows a live read: built from `live` (its last use marked "read
/// live"), or a message when the target changed status since the operator saw it.
fn confirm_live(request: &WriteRequest, purpose: Purpose, live: &Live, now: Timestamp) -> Step {
    let label = request.action.label();
    if live.status() != request.status {
        return message(
            label,
            format!(
                "{} {} of {} is now {} (it was {} when scanned); nothing was changed — rescan the account",
                request.target.kind_label(),
                request.target,
                request.user,
                live.status().as_str(),
                request.status.as_str()
            ),
            true,
        );
    }
    let mut confirm = Confirm::from_live(request, live, now);
    if let Some(l) = confirm.lines.last_mut() {
        l.push_str(" (read live)");
    }
    match purpose {
        Purpose::Confirm => Step::Confirm(confirm),
        Purpose::DeactivateOld => {
            confirm
                .warnings
                .push("the old key: deactivate it now, or later once every application uses the new one".into());
            confirm.cancel_label = "Later";
            Step::DeactivateOld(confirm)
        }
        Purpose::DeleteInactiveFirst(rotate) => {
            confirm.warnings.push(format!(
                "{} already has two keys (the IAM limit): delete this inactive key first, then the rotation continues",
                request.user
            ));
            Step::DeleteInactiveFirst { confirm, rotate }
        }
    }
}

fn keys_of(request: &WriteRequest, keys: Option<Vec<AccessKey>>) -> Option<(AccountId, String, Vec<AccessKey>)> {
    keys.map(|k| (request.account.id.clone(), request.user.clone(), k))
}

impl WriteFlow {
    /// The current step.
    pub fn step(&self) -> &Step {
        &self.step
    }

    /// The last rotation's verification: `Ok(ARN the new key signs as)` or `Err(why not)`;
    /// `None` before one ended.
    pub fn verified(&self) -> Option<&Result<String, String>> {
        self.verified.as_ref()
    }

    /// True when a dialog is open (any step but [`Step::Idle`]).
    pub fn is_open(&self) -> bool {
        !matches!(self.step, Step::Idle)
    }

    /// True while a write is under way.
    pub fn is_writing(&self) -> bool {
        matches!(self.step, Step::Writing { .. })
    }

    /// Starts asking about `request` (the app has checked that it can be made): reads the
    /// key live first; the confirmation follows [`Input::Read`].
    pub fn ask(&mut self, request: WriteRequest) -> Reaction {
        let (step, reaction) = reading(request, Purpose::Confirm);
        self.step = step;
        reaction
    }

    /// Opens a message.
    pub fn message(&mut self, title: &str, text: String, error: bool) {
        self.step = message(title, text, error);
    }

    /// Handles a key while a dialog is open.
    pub fn on_key(&mut self, key: KeyEvent, store: &Store, now: Timestamp) -> Reaction {
        if key.modifiers.contains(KeyModifiers::CONTROL) {
            match (key.code, &mut self.step) {
                (KeyCode::Char('u'), Step::ShowSecret(s)) if s.saved.is_none() => s.path.clear(),
                (KeyCode::Char('c'), _) => return self.transition(Input::Cancel, store, now),
                _ => {}
            }
            return Reaction::default();
        }
        let outcome = match &mut self.step {
            Step::Confirm(c)
            | Step::Reconfirm { confirm: c, .. }
            | Step::DeleteInactiveFirst { confirm: c, .. }
            | Step::DeactivateOld(c) => c.on_key(key),
            Step::ShowSecret(s) => s.on_key(key),
            Step::Message { .. } => dialog::message_key(key),
            Step::Reading { .. } if key.code == KeyCode::Esc => DialogOutcome::Close,
            Step::Reading { .. } | Step::Writing { .. } | Step::Verifying { .. } | Step::Idle => DialogOutcome::Stay,
        };
        self.transition(Input::Dialog(outcome), store, now)
    }

    /// Every transition of the flow. `store` has the scanned keys (for the follow-up
    /// confirmations of a rotation); `now` dates the confirmations.
    pub fn transition(&mut self, input: Input, store: &Store, now: Timestamp) -> Reaction {
        use DialogOutcome as D;
        let none = Reaction::default;
        let (next, reaction) = match (std::mem::take(&mut self.step), input) {
            (step, Input::Dialog(D::Stay)) => (step, none()),

            // The live read before a confirmation (a late answer to an abandoned read is
            // dropped by the last arm).
            (Step::Reading { request, purpose, .. }, Input::Read(read, result)) if read == request => match result {
                Ok(live) => (confirm_live(&request, purpose, &live, now), none()),
                Err(e @ RemediateError::Changed(_)) => (message(request.action.label(), e.to_string(), true), none()),
                Err(e) => (
                    message(
                        format!(
                            "{}: cannot read the {} live",
                            request.action.label(),
                            request.target.kind_label()
                        ),
                        format!("{e}; nothing was changed"),
                        true,
                    ),
                    none(),
                ),
            },

            // Confirmations.
            (Step::Confirm(_) | Step::DeactivateOld(_), Input::Dialog(D::Confirmed(request))) => {
                writing(*request, None)
            }
            (Step::Reconfirm { then_rotate, .. }, Input::Dialog(D::Confirmed(request))) => {
                writing(*request, then_rotate)
            }
            (Step::DeleteInactiveFirst { rotate, .. }, Input::Dialog(D::Confirmed(request))) => {
                writing(*request, Some(rotate))
            }
            // Closing says what happened (nothing), so no key goes unanswered.
            (Step::DeactivateOld(c), Input::Dialog(D::Close) | Input::Cancel) => (
                Step::Idle,
                Reaction {
                    flash: Some(Flash {
                        text: format!(
                            "later: {} stays active; deactivate it once every application uses the new key",
                            c.request.target
                        ),
                        error: false,
                    }),
                    ..none()
                },
            ),
            (Step::Reading { request, .. }, Input::Dialog(D::Close) | Input::Cancel) => (
                Step::Idle,
                Reaction {
                    flash: Some(Flash {
                        text: format!(
                            "cancelled: did not {} {}; nothing was changed",
                            request.action.verb(),
                            subject(&request)
                        ),
                        error: false,
                    }),
                    ..none()
                },
            ),
            (
                Step::Confirm(c) | Step::Reconfirm { confirm: c, .. } | Step::DeleteInactiveFirst { confirm: c, .. },
                Input::Dialog(D::Close) | Input::Cancel,
            ) => (
                Step::Idle,
                Reaction {
                    flash: Some(Flash {
                        text: format!(
                            "cancelled: did not {} {}; nothing was changed",
                            c.request.action.verb(),
                            subject(&c.request)
                        ),
                        error: false,
                    }),
                    ..none()
                },
            ),
            (Step::Message { .. }, Input::Dialog(D::Close) | Input::Cancel) => (Step::Idle, none()),

            // Results of deactivate, activate, delete.
            (step, Input::Applied(request, Ok(done))) => {
                let then_rotate = match step {
                    Step::Writing { then_rotate, .. } => then_rotate,
                    _ => None,
                };
                let rid = done
                    .request_id
                    .as_deref()
                    .map(|r| format!(" (request id {r})"))
                    .unwrap_or_default();
                let reread = if done.keys.is_some() || done.credentials.is_some() || done.password_enabled.is_some() {
                    ""
                } else {
                    "; re-reading failed: rescan with R"
                };
                let text = match &request.target {
                    Target::ConsolePassword => format!(
                        "{} {} in {}: its console password is deleted{rid}{reread}",
                        request.action.ed(),
                        request.user,
                        request.account.name
                    ),
                    _ => format!(
                        "{} {} of {} in {}{rid}{reread}",
                        request.action.ed(),
                        subject(&request),
                        request.user,
                        request.account.name
                    ),
                };
                let flash = Some(Flash { text, error: false });
                let user_update = match (&request.target, done.credentials, done.password_enabled) {
                    (Target::Credential(c), Some(list), _) => Some(UserUpdate::Credentials(c.kind, list)),
                    (Target::ConsolePassword, _, Some(enabled)) => Some(UserUpdate::PasswordEnabled(enabled)),
                    _ => None,
                }
                .map(|u| (request.account.id.clone(), request.user.clone(), u));
                let keys = keys_of(&request, done.keys);
                let (next, mut reaction) = match then_rotate {
                    Some(key) => {
                        let mut next = match store.key(&request.account.id, &request.user, &key) {
                            Some(k) => WriteRequest::new(KeyAction::Rotate, &request.account, &request.user, k),
                            None => WriteRequest {
                                target: Target::AccessKey(key),
                                ..request.clone()
                            },
                        };
                        next.action = KeyAction::Rotate;
                        writing(next, None)
                    }
                    None => (Step::Idle, none()),
                };
                reaction.flash = flash;
                reaction.keys = keys;
                reaction.user_update = user_update;
                (next, reaction)
            }
            (step, Input::Applied(request, Err(RemediateError::UsedSince { live, seen }))) => {
                let then_rotate = match step {
                    Step::Writing { then_rotate, .. } => then_rotate,
                    _ => None,
                };
                let mut confirm = Confirm::from_live(&request, &Live::Key(live.clone()), now);
                if let Some(l) = confirm.lines.last_mut() {
                    l.push_str(" (read live)");
                }
                confirm.warnings.insert(
                    0,
                    format!(
                        "used since you confirmed: last use now {}, you saw {}; nothing was changed: confirm again",
                        last_use_utc(live.last_used.as_ref()),
                        last_use_utc(seen.as_ref())
                    ),
                );
                (Step::Reconfirm { confirm, then_rotate }, none())
            }
            (_, Input::Applied(request, Err(e))) => {
                let keys = match &e {
                    RemediateError::Unknown { keys, .. } => keys_of(&request, keys.clone()),
                    _ => None,
                };
                let title = match &e {
                    RemediateError::Unknown { .. } => format!("{}: outcome unknown", request.action.label()),
                    _ => format!("{} failed", request.action.label()),
                };
                (message(title, e.to_string(), true), Reaction { keys, ..none() })
            }

            // Results of a rotation's create.
            (_, Input::Rotated(request, Ok((key, keys)))) => {
                self.verified = None;
                let effect = Some(Effect::VerifyKey {
                    account: request.account.clone(),
                    user: request.user.clone(),
                    key: key.clone(),
                });
                (
                    Step::Verifying {
                        request: request.clone(),
                        key,
                        failed_tries: 0,
                        left_secs: crate::remediate::VERIFY_WINDOW.as_secs(),
                    },
                    Reaction {
                        effect,
                        keys: keys_of(&request, keys),
                        ..none()
                    },
                )
            }
            (
                Step::Verifying {
                    request,
                    key,
                    left_secs,
                    ..
                },
                Input::VerifyTick(id, tries, left),
            ) if id == key.id => (
                Step::Verifying {
                    request,
                    key,
                    failed_tries: tries,
                    left_secs: left.min(left_secs),
                },
                none(),
            ),
            (Step::Verifying { request, key, .. }, Input::Verified(id, result)) if id == key.id => {
                let flash = Some(match &result {
                    Ok(arn) => Flash {
                        text: format!("new access key {} verified: it signs as {arn}", key.id),
                        error: false,
                    },
                    Err(why) => Flash {
                        text: format!("{why}; the old key {} stays active", request.target),
                        error: true,
                    },
                });
                self.verified = Some(result);
                let d = ShowSecret::new(
                    key,
                    request.account.clone(),
                    request.user.clone(),
                    request.key().cloned(),
                );
                (Step::ShowSecret(d), Reaction { flash, ..none() })
            }
            (
                _,
                Input::Rotated(
                    request,
                    Err(RemediateError::QuotaFull {
                        user,
                        inactive: Some(old),
                    }),
                ),
            ) => match (store.key(&request.account.id, &user, &old), request.key()) {
                (Some(k), Some(rotate)) => reading(
                    WriteRequest::new(KeyAction::Delete, &request.account, &user, k),
                    Purpose::DeleteInactiveFirst(rotate.clone()),
                ),
                _ => (
                    message("Rotate", format!("{user} already has two keys; rescan with R"), true),
                    none(),
                ),
            },
            (_, Input::Rotated(_, Err(e @ RemediateError::QuotaFull { .. }))) => (
                message(
                    "Rotate",
                    format!("{e}: both are active; deactivate and delete one before rotating"),
                    true,
                ),
                none(),
            ),
            (_, Input::Rotated(request, Err(e @ RemediateError::Unknown { .. }))) => {
                let keys = match &e {
                    RemediateError::Unknown { keys, .. } => keys_of(&request, keys.clone()),
                    _ => None,
                };
                (
                    message("Rotate: outcome unknown", e.to_string(), true),
                    Reaction { keys, ..none() },
                )
            }
            (_, Input::Rotated(_, Err(e))) => (message("Rotate failed", e.to_string(), true), none()),

            // The secret.
            (Step::ShowSecret(s), Input::Dialog(D::Save(path))) => {
                let effect = Some(Effect::SaveSecret {
                    path,
                    account: s.account.clone(),
                    profile: s.user.clone(),
                    key: s.key.clone(),
                });
                (Step::ShowSecret(s), Reaction { effect, ..none() })
            }
            (Step::ShowSecret(mut s), Input::Saved(result)) => {
                match result {
                    Ok(path) => {
                        s.saved = Some(path);
                        s.note = None;
                    }
                    Err(e) => s.note = Some(e),
                }
                (Step::ShowSecret(s), none())
            }
            (Step::ShowSecret(s), Input::Dialog(D::SecretClosed))
                if s.old_key.is_some() && !matches!(self.verified, Some(Ok(_))) =>
            {
                let why = match &self.verified {
                    Some(Err(why)) => why.clone(),
                    _ => format!("the new access key {} was not verified", s.key.id),
                };
                let old = s.old_key.as_ref().map(ToString::to_string).unwrap_or_default();
                (
                    message(
                        "Rotate: new key not verified",
                        format!(
                            "{why}.\nThe old key {old} stays active: check the new key (aws sts get-caller-identity with it) before deactivating the old one."
                        ),
                        true,
                    ),
                    none(),
                )
            }
            (Step::ShowSecret(s), Input::Dialog(D::SecretClosed)) => {
                let old = s
                    .old_key
                    .as_ref()
                    .and_then(|k| store.key(&s.account.id, &s.user, k))
                    .filter(|k| k.is_active());
                match old {
                    Some(k) => reading(
                        WriteRequest::new(KeyAction::Deactivate, &s.account, &s.user, k),
                        Purpose::DeactivateOld,
                    ),
                    None => (Step::Idle, none()),
                }
            }

            (Step::Writing { .. } | Step::Reading { .. } | Step::Verifying { .. }, Input::TaskFailed(what)) => (
                message(
                    "internal error",
                    format!("the action stopped unexpectedly ({what}); check :journal and rescan with R"),
                    true,
                ),
                none(),
            ),

            // Anything else (a late event, a key with no meaning here) changes nothing.
            (step, _) => (step, none()),
        };
        self.step = next;
        reaction
    }

    /// Draws the open dialog (nothing when idle) centred in `area`.
    pub fn render(&self, area: Rect, buf: &mut Buffer, theme: &Theme) {
        let (title, lines): (String, Vec<Line>) = match &self.step {
            Step::Idle => return,
            Step::Confirm(c)
            | Step::Reconfirm { confirm: c, .. }
            | Step::DeleteInactiveFirst { confirm: c, .. }
            | Step::DeactivateOld(c) => (
                match &c.request.target {
                    Target::ConsolePassword => format!(" {} of {}? ", c.request.action.label(), c.request.user),
                    t => format!(" {} {}? ", c.request.action.label(), t.kind_label()),
                },
                dialog::confirm_lines(c, theme),
            ),
            Step::Writing { text, .. } => (" working ".into(), vec![Line::from(text.clone())]),
            Step::Reading { text, .. } => (
                " reading the key live… ".into(),
                vec![
                    Line::from(text.clone()),
                    Line::styled("Esc cancels (nothing is changed)", theme.muted()),
                ],
            ),
            Step::Verifying {
                key,
                failed_tries,
                left_secs,
                ..
            } => (
                " verifying the new key… ".into(),
                vec![
                    Line::from(format!(
                        "signing sts:GetCallerIdentity with the new access key {}",
                        key.id
                    )),
                    Line::from(if *failed_tries == 0 {
                        "IAM can take a few seconds to accept a new key".to_owned()
                    } else {
                        format!(
                            "not accepted yet ({}) · giving up in {left_secs} s",
                            crate::text::plural(*failed_tries, "try", "tries")
                        )
                    }),
                    Line::styled(
                        "the secret is shown next; the old key is offered for deactivation only once the new one works",
                        theme.muted(),
                    ),
                ],
            ),
            Step::ShowSecret(s) => {
                let mut lines = dialog::secret_lines(s, theme);
                let verified = match &self.verified {
                    Some(Ok(arn)) => Line::styled(format!("verified: the new key signs as {arn}"), theme.accent()),
                    Some(Err(_)) => Line::styled(
                        "NOT verified: AWS did not accept the new key; the old key stays active",
                        theme.error(),
                    ),
                    None => Line::styled("not verified", theme.error()),
                };
                lines.insert(lines.len().saturating_sub(1), verified);
                (format!(" new access key for {} — shown once ", s.user), lines)
            }
            Step::Message { title, text, error } => (format!(" {title} "), dialog::message_lines(text, *error, theme)),
        };
        dialog::popup(&title, lines, area, buf, theme);
    }
}
