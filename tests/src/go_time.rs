//! Time as the Go server reads and writes it: `time.Parse(time.RFC3339Nano,
//! ..)` for `since`, `Format(time.RFC3339Nano)` for `syncedUntil`, and
//! PostgreSQL's microsecond `timestamptz`.

use mana_sync_core::Timestamp;

const NANOS_PER_SEC: i128 = 1_000_000_000;

/// Days from 1970-01-01 to the given civil date (proleptic Gregorian).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The civil date of a day count from 1970-01-01.
fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

fn days_in_month(y: i64, m: i64) -> i64 {
    match m {
        2 if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// A run of exactly `n` ASCII digits at the start of `s`.
fn fixed(s: &[u8], n: usize) -> Option<i64> {
    let digits = s.get(..n)?;
    digits.iter().try_fold(0i64, |acc, &c| {
        c.is_ascii_digit().then(|| acc * 10 + i64::from(c - b'0'))
    })
}

/// Parses `text` as Go's `time.Parse(time.RFC3339Nano, text)` does: a
/// four-digit year, two-digit month, day, minute and second, a one- or
/// two-digit hour, an optional fraction (`.` or `,` and any number of
/// digits, nanoseconds kept), then `Z` or `±hh:mm`, and nothing after;
/// ranges checked (February 30 is refused). `None` where Go fails.
pub(crate) fn parse_rfc3339(text: &str) -> Option<Timestamp> {
    let s = text.as_bytes();
    let year = fixed(s, 4)?;
    if s.get(4) != Some(&b'-') {
        return None;
    }
    let month = fixed(&s[5..], 2)?;
    if s.get(7) != Some(&b'-') {
        return None;
    }
    let day = fixed(&s[8..], 2)?;
    if s.get(10) != Some(&b'T') {
        return None;
    }
    let mut rest = &s[11..];
    // Go reads the hour (layout "15") with one or two digits.
    let hour_len = match rest {
        [a, b, ..] if a.is_ascii_digit() && b.is_ascii_digit() => 2,
        [a, ..] if a.is_ascii_digit() => 1,
        _ => return None,
    };
    let hour = fixed(rest, hour_len)?;
    rest = &rest[hour_len..];
    if rest.first() != Some(&b':') {
        return None;
    }
    let minute = fixed(&rest[1..], 2)?;
    if rest.get(3) != Some(&b':') {
        return None;
    }
    let second = fixed(&rest[4..], 2)?;
    rest = &rest[6..];
    let mut nanos = 0i64;
    if let [sep, d, ..] = rest {
        if (*sep == b'.' || *sep == b',') && d.is_ascii_digit() {
            let n = rest[1..].iter().take_while(|c| c.is_ascii_digit()).count();
            let digits = &rest[1..=n];
            let mut scale = 100_000_000i64;
            for &c in digits.iter().take(9) {
                nanos += i64::from(c - b'0') * scale;
                scale /= 10;
            }
            rest = &rest[1 + n..];
        }
    }
    let offset_secs = match rest {
        [b'Z'] => 0,
        [sign @ (b'+' | b'-'), _, _, b':', _, _] => {
            let hh = fixed(&rest[1..], 2)?;
            let mm = fixed(&rest[4..], 2)?;
            if hh > 24 || mm > 60 {
                return None;
            }
            let secs = hh * 3600 + mm * 60;
            if *sign == b'-' {
                -secs
            } else {
                secs
            }
        }
        _ => return None,
    };
    if !(1..=12).contains(&month)
        || day < 1
        || day > days_in_month(year, month)
        || hour > 23
        || minute > 59
        || second > 59
    {
        return None;
    }
    let secs = days_from_civil(year, month, day) * 86_400 + hour * 3600 + minute * 60 + second
        - offset_secs;
    Timestamp::from_unix_nanos(i128::from(secs) * NANOS_PER_SEC + i128::from(nanos))
}

/// Go's `Format(time.RFC3339Nano)` in UTC: the fraction with as many digits
/// as it needs (trailing zeros cut), none when whole.
pub(crate) fn rfc3339_nano(t: Timestamp) -> String {
    let nanos = t.unix_nanos();
    let secs = nanos.div_euclid(NANOS_PER_SEC);
    let frac = nanos.rem_euclid(NANOS_PER_SEC);
    let head = rfc3339_seconds_of(secs);
    if frac == 0 {
        return format!("{head}Z");
    }
    let digits = format!("{frac:09}");
    format!("{head}.{}Z", digits.trim_end_matches('0'))
}

/// Go's `Format(time.RFC3339)` in UTC: whole seconds (the fraction is cut,
/// not rounded).
pub(crate) fn rfc3339_seconds(t: Timestamp) -> String {
    format!(
        "{}Z",
        rfc3339_seconds_of(t.unix_nanos().div_euclid(NANOS_PER_SEC))
    )
}

fn rfc3339_seconds_of(secs: i128) -> String {
    let days = i64::try_from(secs.div_euclid(86_400)).unwrap_or(0);
    let rem = i64::try_from(secs.rem_euclid(86_400)).unwrap_or(0);
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// `t` cut to microseconds, as PostgreSQL's `timestamptz` holds it.
pub(crate) fn to_micros(t: Timestamp) -> Timestamp {
    let nanos = t.unix_nanos();
    Timestamp::from_unix_nanos(nanos - nanos.rem_euclid(1000)).unwrap_or(t)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn nanos(s: &str) -> Option<i128> {
        parse_rfc3339(s).map(Timestamp::unix_nanos)
    }

    #[test]
    fn parses_what_go_parses() {
        let base = Timestamp::parse("2026-11-24T22:21:44Z")
            .unwrap()
            .unix_nanos();
        assert_eq!(nanos("2026-11-24T22:21:44Z"), Some(base));
        assert_eq!(
            nanos("2026-11-24T22:21:44.564112Z"),
            Some(base + 564_112_000)
        );
        assert_eq!(nanos("2026-11-24T22:21:44,5Z"), Some(base + 500_000_000));
        assert_eq!(
            nanos("2026-11-24T22:21:44.1234567891Z"),
            Some(base + 123_456_789)
        );
        assert_eq!(nanos("2026-11-24T23:21:44+01:00"), Some(base));
        assert_eq!(
            nanos("2026-11-24T9:00:00Z"),
            Some(base - (13 * 3600 + 21 * 60 + 44) * NANOS_PER_SEC)
        );
        assert_eq!(nanos("1970-01-01T00:00:00Z"), Some(0));
        assert!(nanos("2024-02-29T00:00:00Z").is_some());
        for bad in [
            "yesterday",
            "",
            "2026-11-24",
            "2026-11-24t22:21:44Z",
            "2026-11-24T22:21:44z",
            "2026-11-24 22:21:44Z",
            "2026-11-24T22:21:44",
            "2026-11-24T22:21:44+0100",
            "2026-02-29T00:00:00Z",
            "2026-11-24T24:00:00Z",
            "2026-11-24T22:21:60Z",
            "2026-11-24T22:21:44.Z",
            "2026-11-24T22:21:44Zjunk",
            "26-11-24T22:21:44Z",
        ] {
            assert_eq!(nanos(bad), None, "{bad}");
        }
    }

    #[test]
    fn writes_as_go_writes() {
        let t = |s: &str| parse_rfc3339(s).unwrap();
        assert_eq!(
            rfc3339_nano(t("2026-11-24T22:21:44.564112Z")),
            "2026-11-24T22:21:44.564112Z"
        );
        assert_eq!(
            rfc3339_nano(t("2026-11-24T22:21:44.100Z")),
            "2026-11-24T22:21:44.1Z"
        );
        assert_eq!(
            rfc3339_nano(t("2026-11-24T22:21:44Z")),
            "2026-11-24T22:21:44Z"
        );
        assert_eq!(
            rfc3339_nano(t("2026-11-24T22:21:45.993070461Z")),
            "2026-11-24T22:21:45.993070461Z"
        );
        assert_eq!(
            rfc3339_nano(to_micros(t("2026-11-24T22:21:45.993070461Z"))),
            "2026-11-24T22:21:45.99307Z"
        );
        assert_eq!(
            rfc3339_seconds(t("2026-11-24T22:21:43.999Z")),
            "2026-11-24T22:21:43Z"
        );
        assert_eq!(
            rfc3339_nano(t("1969-12-31T23:59:59.5Z")),
            "1969-12-31T23:59:59.5Z"
        );
    }
}
