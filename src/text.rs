//! Wording shared by the TUI and the headless commands: a count with its noun in the right
//! number, so no message says `1 keys` or `1 account(s)`.

/// `n` followed by `one` when `n` is 1, else by `many`: `plural(1, "key", "keys")` is
/// `1 key`, `plural(0, "key", "keys")` is `0 keys`. Any integer count (`usize`, days as
/// `i64`, tries as `u32`).
pub fn plural<N: std::fmt::Display + PartialEq + From<u8>>(n: N, one: &str, many: &str) -> String {
    let word = if n == N::from(1) { one } else { many };
    format!("{n} {word}")
}

#[cfg(test)]
mod tests {
    use super::plural;

    #[test]
    fn one_is_singular_every_other_count_plural() {
        assert_eq!(plural(1, "access key", "access keys"), "1 access key");
        assert_eq!(plural(0, "mark", "marks"), "0 marks");
        assert_eq!(plural(2, "scan", "scans"), "2 scans");
        assert_eq!(plural(1, "entry", "entries"), "1 entry");
        assert_eq!(plural(1_i64, "day", "days"), "1 day");
        assert_eq!(plural(-1_i64, "day", "days"), "-1 days");
    }
}
