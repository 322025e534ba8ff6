//! The exact text form the server reads: Go's
//! `time.Parse(time.RFC3339Nano, s)`, as docs/PROTOCOL.md ("Pull") lists it.
//!
//! `YYYY-MM-DD`, upper-case `T`, `HH:MM:SS`, an optional `.` and 1 to 9
//! digits, then upper-case `Z` or `±HH:MM` with hours 00–23 and minutes
//! 00–59. Four-digit years only; hours 00–23, minutes and seconds 00–59 (no
//! leap second); no space, no basic format, no lower case. The day is checked
//! against its month by the caller (jiff).

/// Checks that `s` has the server's form; the reason when it does not.
pub(crate) fn check(s: &str) -> Result<(), &'static str> {
    let b = s.as_bytes();
    let digits = |from: usize, n: usize| -> Option<u32> {
        let part = b.get(from..from.checked_add(n)?)?;
        part.iter().try_fold(0u32, |acc, d| {
            d.is_ascii_digit().then(|| acc * 10 + u32::from(d - b'0'))
        })
    };
    let at = |i: usize| b.get(i).copied();
    digits(0, 4).ok_or("the year must be exactly four digits")?;
    if at(4) != Some(b'-') || at(7) != Some(b'-') {
        return Err("the date must be YYYY-MM-DD");
    }
    let month = digits(5, 2).ok_or("the date must be YYYY-MM-DD")?;
    let day = digits(8, 2).ok_or("the date must be YYYY-MM-DD")?;
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) {
        return Err("month or day out of range");
    }
    if at(10) != Some(b'T') {
        return Err("the date and the time must be separated by an upper-case `T`");
    }
    if at(13) != Some(b':') || at(16) != Some(b':') {
        return Err("the time must be HH:MM:SS");
    }
    let hour = digits(11, 2).ok_or("the time must be HH:MM:SS")?;
    let minute = digits(14, 2).ok_or("the time must be HH:MM:SS")?;
    let second = digits(17, 2).ok_or("the time must be HH:MM:SS")?;
    if hour > 23 || minute > 59 || second > 59 {
        return Err("hour, minute or second out of range (no leap second)");
    }
    let mut i = 19;
    if at(i) == Some(b'.') {
        let n = b
            .get(i + 1..)
            .unwrap_or_default()
            .iter()
            .take_while(|d| d.is_ascii_digit())
            .count();
        if !(1..=9).contains(&n) {
            return Err("a fraction has 1 to 9 digits after the `.`");
        }
        i += 1 + n;
    }
    match at(i) {
        Some(b'Z') if b.len() == i + 1 => Ok(()),
        Some(b'+' | b'-') if b.len() == i + 6 && at(i + 3) == Some(b':') => {
            let oh = digits(i + 1, 2).ok_or("the offset must be ±HH:MM")?;
            let om = digits(i + 4, 2).ok_or("the offset must be ±HH:MM")?;
            if oh > 23 || om > 59 {
                return Err("the offset must be within ±23:59");
            }
            Ok(())
        }
        _ => Err("the time must end in an upper-case `Z` or a `±HH:MM` offset"),
    }
}

#[cfg(test)]
mod tests {
    use super::check;

    #[test]
    fn accepts_what_go_reads() {
        for ok in [
            "2026-11-24T22:21:44Z",
            "2026-11-24T22:21:44.5Z",
            "2026-11-24T22:21:44.123456789Z",
            "2026-11-24T22:21:44.000Z",
            "0000-01-01T00:00:00Z",
            "9999-12-31T23:59:59.999999999Z",
            "2026-11-24T22:21:44+23:59",
            "2026-11-24T22:21:44.1-00:00",
        ] {
            assert_eq!(check(ok), Ok(()), "{ok}");
        }
    }

    #[test]
    fn refuses_what_go_refuses() {
        for bad in [
            "",
            "2026-11-24t22:21:44Z",
            "2026-11-24T22:21:44z",
            "2026-11-24 22:21:44Z",
            "20261124T222144Z",
            "2026-11-24T22:21Z",
            "+002026-11-24T22:21:44Z",
            "-0001-11-24T22:21:44Z",
            "12026-11-24T22:21:44Z",
            "2026-11-24T22:21:44+24:00",
            "2026-11-24T22:21:44+01:60",
            "2026-11-24T22:21:44+0100",
            "2026-11-24T22:21:44+01",
            "2026-12-31T23:59:60Z",
            "2026-11-24T24:00:00Z",
            "2026-11-24T22:21:44.Z",
            "2026-11-24T22:21:44.1234567890Z",
            "2026-11-24T22:21:44,5Z",
            "2026-11-24T22:21:44Z ",
            " 2026-11-24T22:21:44Z",
            "2026-11-24T22:21:44",
            "2026-13-01T00:00:00Z",
            "2026-00-01T00:00:00Z",
            "2026-01-00T00:00:00Z",
            "2026-1-01T00:00:00Z",
            "２０２６-11-24T22:21:44Z",
            "2026-11-24T22:21:44Z[UTC]",
            "2026-11-24T22:21:44.5\u{0}Z",
        ] {
            assert!(check(bad).is_err(), "{bad:?}");
        }
    }
}
