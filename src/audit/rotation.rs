//! Rotations in progress: a user with an old and a new access key, and whether the old one
//! can go. The judgement is pure (`now` is passed in) and the one place the TUI's user view,
//! users list and `:rotations` read it, so they cannot disagree.
//!
//! Source: the user's two keys as listed by `iam:ListAccessKeys`, their last use from the
//! credential report or `iam:GetAccessKeyLastUsed`. IAM reports a use up to
//! [`LAST_USED_DELAY_HOURS`] late, so an old key that looks idle right after the new one was
//! created proves nothing yet.

use super::Policy;
use crate::model::{AccessKey, Timestamp, User, age_days};

/// How late IAM may report a key's use, in hours: before the new key is this old, an idle
/// old key is "too early to tell".
pub const LAST_USED_DELAY_HOURS: i64 = 4;

/// What the old key's use since the rotation started says.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Verdict {
    /// The old key signed a request at or after the new key's creation: applications still
    /// use it; deactivating it now breaks them.
    StillUsed,
    /// The old key has not been used since the new key was created, but the new key is
    /// younger than [`LAST_USED_DELAY_HOURS`]: a use may not be reported yet.
    TooEarly,
    /// The old key has not been used since the new key was created, at least
    /// [`LAST_USED_DELAY_HOURS`] ago: likely safe to deactivate.
    Quiet,
    /// The old key is already inactive: delete it once no application has broken.
    OldInactive,
}

impl Verdict {
    /// A short word for a table cell: `still used`, `too early`, `safe to deactivate`,
    /// `delete old key`.
    pub fn word(self) -> &'static str {
        match self {
            Verdict::StillUsed => "still used",
            Verdict::TooEarly => "too early",
            Verdict::Quiet => "safe to deactivate",
            Verdict::OldInactive => "delete old key",
        }
    }
}

/// A rotation in progress: the user's older and newer key and the verdict on the older.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rotation<'a> {
    /// The key created first (the one to retire).
    pub old: &'a AccessKey,
    /// The key created last; its creation is when the rotation started.
    pub new: &'a AccessKey,
    /// What the old key's use since then says.
    pub verdict: Verdict,
}

/// The rotation in progress of `user` at `now`, if any: the user has exactly two access
/// keys, created at different times, the newer one at most `policy.unused_days` whole days
/// ago (after that the old key's findings say what to do). `None` otherwise.
pub fn in_progress<'a>(user: &'a User, policy: &Policy, now: Timestamp) -> Option<Rotation<'a>> {
    let [a, b] = user.access_keys.as_slice() else {
        return None;
    };
    let (old, new) = if a.created <= b.created { (a, b) } else { (b, a) };
    if old.created == new.created || age_days(new.created, now) > i64::from(policy.unused_days) {
        return None;
    }
    Some(Rotation {
        old,
        new,
        verdict: judge(old, new, now),
    })
}

/// The verdict on `old` once `new` was created, at `now`. A use at the very second of the
/// new key's creation counts as a use since (the safe side).
pub fn judge(old: &AccessKey, new: &AccessKey, now: Timestamp) -> Verdict {
    if !old.is_active() {
        return Verdict::OldInactive;
    }
    match &old.last_used {
        Some(u) if u.date >= new.created => Verdict::StillUsed,
        _ if now - new.created < chrono::Duration::hours(LAST_USED_DELAY_HOURS) => Verdict::TooEarly,
        _ => Verdict::Quiet,
    }
}

impl Rotation<'_> {
    /// When the rotation started: the new key's creation (UTC).
    pub fn started(&self) -> Timestamp {
        self.new.created
    }

    /// The old key's last use if it was at or after the rotation started.
    pub fn old_used_since(&self) -> Option<Timestamp> {
        self.old
            .last_used
            .as_ref()
            .map(|u| u.date)
            .filter(|d| *d >= self.started())
    }

    /// One line for the operator, e.g. `old key used 3 h ago by s3 in eu-west-1 →
    /// applications still use it`, `old key not used since the new key was created 2 d ago →
    /// likely safe to deactivate`.
    pub fn summary(&self, now: Timestamp) -> String {
        let created = ago(self.started(), now);
        match self.verdict {
            Verdict::StillUsed => {
                let mut s = String::from("old key used");
                if let Some(u) = &self.old.last_used {
                    s.push(' ');
                    s.push_str(&ago(u.date, now));
                    if let Some(svc) = &u.service {
                        s.push_str(&format!(" by {svc}"));
                    }
                    if let Some(r) = &u.region {
                        s.push_str(&format!(" in {r}"));
                    }
                }
                s.push_str(" → applications still use it");
                s
            }
            Verdict::TooEarly => format!(
                "old key not used since the new key was created {created} → too early to tell (IAM reports a use up to {LAST_USED_DELAY_HOURS} h late)"
            ),
            Verdict::Quiet => {
                format!("old key not used since the new key was created {created} → likely safe to deactivate")
            }
            Verdict::OldInactive => {
                format!("old key inactive (new key created {created}) → delete it once no application has broken")
            }
        }
    }
}

/// How long ago `then` was at `now`, in the largest unit that is at least one: `12 min ago`,
/// `3 h ago`, `2 d ago` (whole units, rounded down; `just now` under a minute).
pub fn ago(then: Timestamp, now: Timestamp) -> String {
    let d = now - then;
    if d.num_days() >= 1 {
        format!("{} d ago", d.num_days())
    } else if d.num_hours() >= 1 {
        format!("{} h ago", d.num_hours())
    } else if d.num_minutes() >= 1 {
        format!("{} min ago", d.num_minutes())
    } else {
        "just now".into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{AccessKeyId, KeyLastUsed, KeyStatus};
    use chrono::{Duration, TimeZone, Utc};

    fn now() -> Timestamp {
        Utc.with_ymd_and_hms(2026, 12, 1, 12, 0, 0).unwrap()
    }

    fn key(id: &str, status: KeyStatus, created_ago: Duration, used_ago: Option<Duration>) -> AccessKey {
        AccessKey {
            id: AccessKeyId(id.into()),
            status,
            created: now() - created_ago,
            last_used: used_ago.map(|d| KeyLastUsed {
                date: now() - d,
                service: Some("s3".into()),
                region: Some("eu-west-1".into()),
            }),
        }
    }

    fn user(keys: Vec<AccessKey>) -> User {
        User {
            credentials: Vec::new(),
            name: "jenkins".into(),
            arn: "arn:aws:iam::111111111111:user/jenkins".into(),
            path: "/".into(),
            created: now() - Duration::days(900),
            password_enabled: false,
            password_last_used: None,
            mfa_active: false,
            mfa_devices: vec![],
            access_keys: keys,
        }
    }

    fn old(used_ago: Option<Duration>) -> AccessKey {
        key("AKIAOLD0000000000001", KeyStatus::Active, Duration::days(400), used_ago)
    }

    fn new(created_ago: Duration) -> AccessKey {
        key("AKIANEW0000000000001", KeyStatus::Active, created_ago, None)
    }

    fn verdict(keys: Vec<AccessKey>) -> Option<Verdict> {
        in_progress(&user(keys), &Policy::default(), now()).map(|r| r.verdict)
    }

    #[test]
    fn the_old_keys_use_since_the_new_keys_creation_decides() {
        let two_days = Duration::days(2);
        // Used 3 h ago, new key 2 d old: still used.
        assert_eq!(
            verdict(vec![old(Some(Duration::hours(3))), new(two_days)]),
            Some(Verdict::StillUsed)
        );
        // Used at the very second the new key was created: still used (the safe side).
        assert_eq!(
            verdict(vec![old(Some(two_days)), new(two_days)]),
            Some(Verdict::StillUsed)
        );
        // Used one second before: not since.
        assert_eq!(
            verdict(vec![old(Some(two_days + Duration::seconds(1))), new(two_days)]),
            Some(Verdict::Quiet)
        );
        // Never used: quiet.
        assert_eq!(verdict(vec![old(None), new(two_days)]), Some(Verdict::Quiet));
        // The order of the keys in the list does not matter.
        assert_eq!(
            verdict(vec![new(two_days), old(Some(Duration::hours(3)))]),
            Some(Verdict::StillUsed)
        );
    }

    #[test]
    fn an_idle_old_key_is_too_early_to_judge_until_the_new_key_is_4_h_old() {
        let just_under = Duration::hours(4) - Duration::seconds(1);
        assert_eq!(
            verdict(vec![old(Some(Duration::days(1) + Duration::hours(1))), new(just_under)]),
            Some(Verdict::TooEarly)
        );
        assert_eq!(verdict(vec![old(None), new(Duration::hours(4))]), Some(Verdict::Quiet));
    }

    #[test]
    fn an_inactive_old_key_is_to_be_deleted_whatever_its_use() {
        let mut k = old(Some(Duration::hours(1)));
        k.status = KeyStatus::Inactive;
        assert_eq!(verdict(vec![k, new(Duration::days(5))]), Some(Verdict::OldInactive));
    }

    #[test]
    fn a_rotation_is_two_keys_of_different_ages_the_newer_at_most_unused_days_old() {
        // Policy::default().unused_days is 45.
        assert!(verdict(vec![old(None), new(Duration::days(45) + Duration::hours(23))]).is_some());
        assert_eq!(verdict(vec![old(None), new(Duration::days(46))]), None);
        assert_eq!(verdict(vec![old(None)]), None);
        assert_eq!(verdict(vec![]), None);
        let same = key("AKIASAME000000000001", KeyStatus::Active, Duration::days(400), None);
        assert_eq!(verdict(vec![old(None), same]), None, "created the same second");
    }

    #[test]
    fn the_summary_says_what_was_seen_and_what_to_do() {
        let (o, n) = (old(Some(Duration::hours(3))), new(Duration::days(2)));
        let u = user(vec![o, n]);
        let r = in_progress(&u, &Policy::default(), now()).unwrap();
        assert_eq!(
            r.summary(now()),
            "old key used 3 h ago by s3 in eu-west-1 → applications still use it"
        );
        assert_eq!(r.old_used_since(), Some(now() - Duration::hours(3)));
        assert_eq!(r.started(), now() - Duration::days(2));

        let u = user(vec![old(Some(Duration::days(3))), new(Duration::days(2))]);
        let r = in_progress(&u, &Policy::default(), now()).unwrap();
        assert_eq!(
            r.summary(now()),
            "old key not used since the new key was created 2 d ago → likely safe to deactivate"
        );
        assert_eq!(r.old_used_since(), None);

        let u = user(vec![old(None), new(Duration::minutes(90))]);
        assert_eq!(
            in_progress(&u, &Policy::default(), now()).unwrap().summary(now()),
            "old key not used since the new key was created 1 h ago → too early to tell (IAM reports a use up to 4 h late)"
        );
    }

    #[test]
    fn ago_uses_the_largest_whole_unit() {
        let at = |d: Duration| ago(now() - d, now());
        assert_eq!(at(Duration::seconds(59)), "just now");
        assert_eq!(at(Duration::minutes(1)), "1 min ago");
        assert_eq!(at(Duration::minutes(59)), "59 min ago");
        assert_eq!(at(Duration::hours(1)), "1 h ago");
        assert_eq!(at(Duration::hours(23) + Duration::minutes(59)), "23 h ago");
        assert_eq!(at(Duration::days(1)), "1 d ago");
        assert_eq!(at(Duration::days(2)), "2 d ago");
        assert_eq!(at(-Duration::hours(1)), "just now", "a future time");
    }
}
