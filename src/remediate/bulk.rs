//! Bulk writes: one action on many access keys, as one batch with per-target safety. Each
//! target goes through [`Remediator::apply_in`] (the key re-read and its last use read live
//! just before its write; a target that changed, vanished or was used since the operator
//! confirmed, or since the plan was made, is skipped with the reason). The role is assumed once per account (an account
//! whose role cannot be assumed fails all its targets with the reason). Writes run with
//! bounded concurrency per account and across accounts; every target that is launched leaves an intent and an outcome line in the
//! journal under the batch id (a skipped one: outcome `skipped`, with the reason). A stop flag
//! stops launching new writes; those in flight finish and are journaled.
//!
//! No UI here: outcomes go out through a channel as they happen, for the TUI's progress line,
//! and the whole list is returned at the end (for a headless summary).

use super::{RemediateError, Remediator, last_use_utc};
use crate::journal::{self, ActionResult, Phase};
use crate::model::{AccessKey, AccountId, KeyAction};
use crate::remediate::WriteRequest;
use aws_config::SdkConfig;
use futures::StreamExt;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use tokio::sync::mpsc::UnboundedSender;

/// How many writes a batch runs at once.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BatchLimits {
    /// Accounts worked on at the same time.
    pub accounts: usize,
    /// Writes in flight per account.
    pub per_account: usize,
}

impl Default for BatchLimits {
    /// 8 accounts at once, 4 writes in flight in each (IAM's write rate limits are per
    /// account; 4 stays well under them).
    fn default() -> Self {
        Self {
            accounts: 8,
            per_account: 4,
        }
    }
}

/// What a batch's targets were checked against: the state the operator confirmed in the TUI,
/// or the state a plan recorded. Only the wording of a "used since" skip depends on it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Basis {
    /// The operator confirmed the targets (the TUI's bulk confirmation).
    Confirmed,
    /// A plan (`keytriage plan`, `:plan`) recorded the targets.
    Plan {
        /// The plan's scan time (its `scanned_at`, UTC).
        made_at: chrono::DateTime<chrono::Utc>,
    },
}

/// The reason a target is skipped because its key signed a request after the state it was
/// checked against: `live` is the key as read just before the write, `seen` the last use the
/// basis recorded (`None`: never used). E.g. `access key AKIA… was used since the plan was
/// made (plan time 2026-12-01 14:00 UTC; last use now …; the plan saw never used)`.
/// Both last uses are given to the minute, or to the second when they fall in the same minute
/// (so the two never read alike).
pub fn used_since_reason(basis: Basis, live: &AccessKey, seen: Option<&crate::model::KeyLastUsed>) -> String {
    let minute = |u: &crate::model::KeyLastUsed| u.date.format("%Y-%m-%d %H:%M").to_string();
    let (now, seen) = match (live.last_used.as_ref(), seen) {
        (Some(a), Some(b)) if minute(a) == minute(b) => (to_the_second(a), to_the_second(b)),
        (a, b) => (last_use_utc(a), last_use_utc(b)),
    };
    match basis {
        Basis::Confirmed => format!(
            "access key {} was used since you confirmed (last use now {now}; you saw {seen})",
            live.id
        ),
        Basis::Plan { made_at } => format!(
            "access key {} was used since the plan was made (plan time {}; last use now {now}; the plan saw {seen})",
            live.id,
            made_at.format("%Y-%m-%d %H:%M UTC")
        ),
    }
}

/// [`last_use_utc`] with seconds: `2026-12-01 15:36:02 UTC by s3 in eu-west-1`.
fn to_the_second(u: &crate::model::KeyLastUsed) -> String {
    let minute = u.date.format("%Y-%m-%d %H:%M UTC").to_string();
    let second = u.date.format("%Y-%m-%d %H:%M:%S UTC").to_string();
    last_use_utc(Some(u)).replacen(&minute, &second, 1)
}

/// How one target of a batch ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Written. `keys`: the user's keys re-read after the write (`None` when that failed).
    Done {
        /// AWS's request id of the write.
        request_id: Option<String>,
        /// The user's keys as re-read.
        keys: Option<Vec<AccessKey>>,
    },
    /// Not written: the key changed, vanished, or was used since the operator confirmed (or
    /// since the plan was made).
    /// The text says which (e.g. `access key AKIA… is now Inactive (it was Active when
    /// scanned)`).
    Skipped(String),
    /// AWS refused the write, or the pre-check read or the journal failed; nothing changed.
    Failed(String),
    /// The write got no answer and may have taken effect; the text says what the re-read
    /// found and what to do.
    Unknown(String),
    /// Never launched: the batch was stopped first.
    NotStarted,
}

impl Outcome {
    /// `done`, `skipped`, `failed`, `unknown` or `not started`.
    pub fn word(&self) -> &'static str {
        match self {
            Outcome::Done { .. } => "done",
            Outcome::Skipped(_) => "skipped",
            Outcome::Failed(_) => "failed",
            Outcome::Unknown(_) => "unknown",
            Outcome::NotStarted => "not started",
        }
    }

    /// The reason, for every outcome but done and not started.
    pub fn reason(&self) -> Option<&str> {
        match self {
            Outcome::Skipped(r) | Outcome::Failed(r) | Outcome::Unknown(r) => Some(r),
            Outcome::Done { .. } | Outcome::NotStarted => None,
        }
    }
}

/// What a running batch reports, target by target (`index` into the targets given).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BatchEvent {
    /// The target's pre-check and write started.
    Started(usize),
    /// The target ended.
    Finished(usize, Outcome),
}

/// Counts of a batch's outcomes: `[done, skipped, failed, unknown, not started]`.
pub fn tally(outcomes: &[Outcome]) -> [usize; 5] {
    let mut t = [0; 5];
    for o in outcomes {
        let i = match o {
            Outcome::Done { .. } => 0,
            Outcome::Skipped(_) => 1,
            Outcome::Failed(_) => 2,
            Outcome::Unknown(_) => 3,
            Outcome::NotStarted => 4,
        };
        t[i] += 1;
    }
    t
}

/// A new batch id, e.g. `batch-20261129T075854.123Z-4242-0`.
pub fn new_batch_id(now: chrono::DateTime<chrono::Utc>) -> String {
    format!("batch-{}", journal::new_action_id(now))
}

impl Remediator {
    /// Journals a target of batch `batch_id` that was not written: an intent and a `skipped`
    /// outcome carrying `reason`, so every target of a batch has its two lines.
    fn journal_skip(&self, request: &WriteRequest, batch_id: &str, reason: &str) {
        let mut intent = self.entry(
            &request.account,
            &request.user,
            request.key(),
            request.action,
            &journal::new_action_id(chrono::Utc::now()),
        );
        intent.credential = request.target.credential().cloned();
        intent.batch_id = Some(batch_id.to_owned());
        let mut outcome = intent.clone();
        outcome.phase = Phase::Outcome;
        outcome.result = Some(ActionResult::Skipped);
        outcome.message = Some(reason.to_owned());
        for e in [&intent, &outcome] {
            if let Err(err) = self.journal.append(e) {
                tracing::error!(error = %err, batch_id, "journal line of a skipped target not written");
            }
        }
    }

    async fn one_of_batch(&self, config: &SdkConfig, request: &WriteRequest, batch_id: &str, basis: Basis) -> Outcome {
        match self.apply_with(config, request, Some(batch_id)).await {
            Ok(done) => Outcome::Done {
                request_id: done.request_id,
                keys: done.keys,
            },
            Err(e @ RemediateError::Changed(_)) => {
                let reason = e.to_string();
                let reason = reason
                    .strip_suffix("; nothing was changed — rescan the account")
                    .unwrap_or(&reason)
                    .to_owned();
                self.journal_skip(request, batch_id, &reason);
                Outcome::Skipped(reason)
            }
            Err(RemediateError::UsedSince { live, seen }) => {
                let reason = used_since_reason(basis, &live, seen.as_ref());
                self.journal_skip(request, batch_id, &reason);
                Outcome::Skipped(reason)
            }
            Err(e @ RemediateError::Unknown { .. }) => Outcome::Unknown(e.to_string()),
            Err(e) => Outcome::Failed(e.to_string()),
        }
    }

    /// Runs `targets` (deactivate, activate or delete; each as the operator confirmed it) as
    /// batch `batch_id`: per target, [`Remediator::apply_in`]; at most `limits.per_account`
    /// writes in flight per account and `limits.accounts` accounts at once. Reports
    /// [`BatchEvent`]s on `events` as targets start and end (a closed receiver is ignored),
    /// and returns every target's [`Outcome`], in the order given. Once `stop` is set, no
    /// further target is launched (those are [`Outcome::NotStarted`]); writes in flight finish.
    ///
    /// # Errors
    /// [`RemediateError::ReadOnly`] when writes are off, and [`RemediateError::NotAKeyChange`]
    /// for a rotation among the targets — both before anything starts.
    pub async fn run_batch(
        &self,
        batch_id: &str,
        targets: &[WriteRequest],
        limits: BatchLimits,
        stop: Arc<AtomicBool>,
        events: UnboundedSender<BatchEvent>,
    ) -> Result<Vec<Outcome>, RemediateError> {
        self.run_batch_on(Basis::Confirmed, batch_id, targets, limits, stop, events)
            .await
    }

    /// [`Remediator::run_batch`] on targets checked against `basis`: a plan's targets that
    /// were used since say so with the plan's time ([`used_since_reason`]).
    ///
    /// # Errors
    /// As [`Remediator::run_batch`].
    pub async fn run_batch_on(
        &self,
        basis: Basis,
        batch_id: &str,
        targets: &[WriteRequest],
        limits: BatchLimits,
        stop: Arc<AtomicBool>,
        events: UnboundedSender<BatchEvent>,
    ) -> Result<Vec<Outcome>, RemediateError> {
        if !self.writes_enabled {
            return Err(RemediateError::ReadOnly);
        }
        if targets.iter().any(|t| t.action == KeyAction::Rotate) {
            return Err(RemediateError::NotAKeyChange);
        }
        let mut by_account: BTreeMap<&AccountId, Vec<usize>> = BTreeMap::new();
        for (i, t) in targets.iter().enumerate() {
            by_account.entry(&t.account.id).or_default().push(i);
        }
        let per_account = limits.per_account.max(1);
        let account_runs = by_account.into_values().map(|indices| {
            let (stop, events) = (stop.clone(), events.clone());
            async move {
                // The role is assumed once per account, when its first write would launch.
                if stop.load(Ordering::SeqCst) {
                    return finish_all(&indices, &events, || Outcome::NotStarted);
                }
                let config = match self.config(&targets[indices[0]].account).await {
                    Ok(c) => c,
                    Err(e) => {
                        let reason = e.to_string();
                        return finish_all(&indices, &events, || Outcome::Failed(reason.clone()));
                    }
                };
                let config = &config;
                futures::stream::iter(indices)
                    .map(|i| {
                        let (stop, events) = (stop.clone(), events.clone());
                        async move {
                            // Checked when the write would launch, not when queued.
                            if stop.load(Ordering::SeqCst) {
                                return (i, Outcome::NotStarted);
                            }
                            let _ = events.send(BatchEvent::Started(i));
                            (i, self.one_of_batch(config, &targets[i], batch_id, basis).await)
                        }
                    })
                    .buffer_unordered(per_account)
                    .map(|(i, outcome)| {
                        let _ = events.send(BatchEvent::Finished(i, outcome.clone()));
                        (i, outcome)
                    })
                    .collect::<Vec<_>>()
                    .await
            }
        });
        let finished: Vec<Vec<(usize, Outcome)>> = futures::stream::iter(account_runs)
            .buffer_unordered(limits.accounts.max(1))
            .collect()
            .await;
        let mut outcomes = vec![Outcome::NotStarted; targets.len()];
        for (i, o) in finished.into_iter().flatten() {
            outcomes[i] = o;
        }
        Ok(outcomes)
    }
}

/// Ends every target of `indices` with `outcome()` (reported on `events`).
fn finish_all(
    indices: &[usize],
    events: &UnboundedSender<BatchEvent>,
    outcome: impl Fn() -> Outcome,
) -> Vec<(usize, Outcome)> {
    indices
        .iter()
        .map(|&i| {
            let o = outcome();
            let _ = events.send(BatchEvent::Finished(i, o.clone()));
            (i, o)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{AccessKeyId, KeyLastUsed, KeyStatus};
    use chrono::TimeZone;

    fn live() -> AccessKey {
        let at = |h| chrono::Utc.with_ymd_and_hms(2026, 12, 1, h, 0, 0).unwrap();
        AccessKey {
            id: AccessKeyId("AKIAOLD0000000000001".into()),
            status: KeyStatus::Active,
            created: at(0) - chrono::Days::new(400),
            last_used: Some(KeyLastUsed {
                date: at(15),
                service: Some("s3".into()),
                region: Some("eu-west-1".into()),
            }),
        }
    }

    #[test]
    fn a_key_used_since_says_since_you_confirmed_or_since_the_plan_with_its_time() {
        let seen = KeyLastUsed {
            date: chrono::Utc.with_ymd_and_hms(2026, 11, 30, 9, 0, 0).unwrap(),
            service: Some("s3".into()),
            region: None,
        };
        assert_eq!(
            used_since_reason(Basis::Confirmed, &live(), Some(&seen)),
            "access key AKIAOLD0000000000001 was used since you confirmed (last use now 2026-12-01 15:00 UTC by s3 in eu-west-1; you saw 2026-11-30 09:00 UTC by s3)"
        );
        let made_at = chrono::Utc.with_ymd_and_hms(2026, 12, 1, 14, 5, 0).unwrap();
        assert_eq!(
            used_since_reason(Basis::Plan { made_at }, &live(), None),
            "access key AKIAOLD0000000000001 was used since the plan was made (plan time 2026-12-01 14:05 UTC; last use now 2026-12-01 15:00 UTC by s3 in eu-west-1; the plan saw never used)"
        );
        // Seconds apart in the same minute: to the second.
        let mut used = live();
        let at = |s| chrono::Utc.with_ymd_and_hms(2026, 12, 1, 15, 0, s).unwrap();
        used.last_used.as_mut().unwrap().date = at(40);
        let seen = KeyLastUsed {
            date: at(5),
            service: Some("s3".into()),
            region: Some("eu-west-1".into()),
        };
        assert_eq!(
            used_since_reason(Basis::Plan { made_at }, &used, Some(&seen)),
            "access key AKIAOLD0000000000001 was used since the plan was made (plan time 2026-12-01 14:05 UTC; last use now 2026-12-01 15:00:40 UTC by s3 in eu-west-1; the plan saw 2026-12-01 15:00:05 UTC by s3 in eu-west-1)"
        );
    }
}
