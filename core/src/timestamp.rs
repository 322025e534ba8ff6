//! Instants on the wire: [`Timestamp`] (written in the browser's 24-character
//! form) and [`Cursor`] (a paging position, kept verbatim).

use std::cmp::Ordering;
use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// An instant in UTC with nanosecond precision, from
/// [`Timestamp::MIN`] (`0000-01-01T00:00:00Z`) to [`Timestamp::MAX`] (late
/// in year 9999): the instants a four-digit year writes, so that whatever a
/// `Timestamp` writes (its `Display`, [`Timestamp::to_rfc3339_precise`], a
/// saved stamp) [`Timestamp::parse`] reads back as the same instant (to the
/// millisecond for `Display`, exactly for the precise form). Nothing makes
/// an instant outside that range: a parse, a constructor or arithmetic that
/// would is refused.
///
/// Parses exactly the RFC 3339 texts the server reads back (Go's
/// `time.Parse(time.RFC3339Nano, …)`: four-digit year, upper-case `T` and
/// `Z`, `HH:MM:SS`, 0 to 9 fraction digits, `Z` or `±HH:MM` within ±23:59, no
/// leap second); writes JavaScript's `toISOString()` form,
/// `YYYY-MM-DDTHH:MM:SS.sssZ` (24 characters, milliseconds, UTC); orders by
/// instant, whatever form it was parsed from.
///
/// ```
/// # use mana_sync_core::surface as mana_sync_ureq;
/// use mana_sync_ureq::Timestamp;
///
/// let a = Timestamp::parse("2026-04-23T13:18:35.5+02:00")?;
/// let b = Timestamp::parse("2026-04-23T11:18:35.500000001Z")?;
/// assert!(a < b);
/// assert_eq!(a.to_string(), "2026-04-23T11:18:35.500Z");
/// # Ok::<(), mana_sync_ureq::TimestampError>(())
/// ```
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(jiff::Timestamp);

/// A string that is not an RFC 3339 timestamp.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "not an RFC 3339 timestamp: {input} (expected e.g. \"2026-04-23T11:18:35.000Z\"): {reason}"
)]
pub struct TimestampError {
    /// The input's start, quoted and escaped, at most [`SHOWN`] characters.
    input: String,
    reason: String,
}

/// Most characters an error shows of the input (quoted and escaped) and of
/// the reason: escapes such as `\u{10ffff}` make a short text long.
const SHOWN: usize = 100;

/// `text` cut to [`SHOWN`] characters, `…` marking a cut.
fn shown(text: &str) -> String {
    if text.chars().count() <= SHOWN {
        return text.to_owned();
    }
    let mut cut: String = text.chars().take(SHOWN - 1).collect();
    cut.push('…');
    cut
}

impl TimestampError {
    fn new(input: &str, reason: impl fmt::Display) -> Self {
        let input: String = input.chars().take(SHOWN).collect();
        TimestampError {
            input: shown(&format!("{input:?}")),
            reason: shown(&reason.to_string()),
        }
    }
}

impl Timestamp {
    /// 1970-01-01T00:00:00.000Z.
    pub const UNIX_EPOCH: Timestamp = Timestamp(jiff::Timestamp::UNIX_EPOCH);

    /// The earliest instant held: `0000-01-01T00:00:00.000Z` (before it,
    /// a year has no four-digit form, and the server reads none).
    pub const MIN: Timestamp = Timestamp(jiff::Timestamp::constant(-62_167_219_200, 0));

    /// The latest instant held (jiff's last: `9999-12-30T22:00:00.999999999Z`).
    pub const MAX: Timestamp = Timestamp(jiff::Timestamp::MAX);

    /// `t`, if within [`Timestamp::MIN`]..=[`Timestamp::MAX`].
    fn held(t: jiff::Timestamp) -> Option<Timestamp> {
        (t >= Timestamp::MIN.0).then_some(Timestamp(t))
    }

    /// Parses an RFC 3339 timestamp in the form the server reads:
    /// `YYYY-MM-DDTHH:MM:SS`, optionally `.` and 1 to 9 digits, then `Z` or
    /// `±HH:MM`. Lower-case `t`/`z`, a space for `T`, the basic format, a
    /// missing seconds field, extended years, offsets beyond ±23:59 and
    /// second 60 are refused: the server would read such a `since` as 1970.
    pub fn parse(input: &str) -> Result<Timestamp, TimestampError> {
        crate::rfc3339::check(input).map_err(|why| TimestampError::new(input, why))?;
        // jiff checks the day against its month.
        let t = jiff::Timestamp::from_str(input).map_err(|e| TimestampError::new(input, e))?;
        Timestamp::held(t).ok_or_else(|| {
            TimestampError::new(input, "the instant is before 0000-01-01T00:00:00Z (in UTC)")
        })
    }

    /// The instant `millis` milliseconds after the Unix epoch, if held
    /// (from [`Timestamp::MIN`] to [`Timestamp::MAX`], years 0 to 9999).
    pub fn from_unix_millis(millis: i64) -> Option<Timestamp> {
        jiff::Timestamp::from_millisecond(millis)
            .ok()
            .and_then(Timestamp::held)
    }

    /// The instant `nanos` nanoseconds after the Unix epoch, if held.
    pub fn from_unix_nanos(nanos: i128) -> Option<Timestamp> {
        jiff::Timestamp::from_nanosecond(nanos)
            .ok()
            .and_then(Timestamp::held)
    }

    /// Milliseconds since the Unix epoch (rounded towards negative infinity).
    pub fn unix_millis(self) -> i64 {
        // jiff truncates towards zero; the millisecond `Display` writes is
        // the floor (within ±2^63 ms: years 0 to 9999 are about ±2.5e14).
        let millis = self.0.as_nanosecond().div_euclid(1_000_000);
        i64::try_from(millis).unwrap_or(i64::MIN)
    }

    /// Nanoseconds since the Unix epoch.
    pub fn unix_nanos(self) -> i128 {
        self.0.as_nanosecond()
    }

    /// Whole seconds since the Unix epoch and the nanoseconds past them
    /// (with the seconds' sign): ordered as the instants when compared as a
    /// pair. The compact form a folded field keeps.
    pub(crate) fn parts(self) -> (i64, i32) {
        (self.0.as_second(), self.0.subsec_nanosecond())
    }

    /// The instant of [`Timestamp::parts`].
    pub(crate) fn from_parts(seconds: i64, nanos: i32) -> Option<Timestamp> {
        jiff::Timestamp::new(seconds, nanos)
            .ok()
            .and_then(Timestamp::held)
    }

    /// This instant plus `d`, or `None` past [`Timestamp::MAX`].
    pub fn checked_add(self, d: Duration) -> Option<Timestamp> {
        let d = jiff::SignedDuration::try_from(d).ok()?;
        self.0.checked_add(d).ok().and_then(Timestamp::held)
    }

    /// This instant minus `d`, or `None` before [`Timestamp::MIN`].
    pub fn checked_sub(self, d: Duration) -> Option<Timestamp> {
        let d = jiff::SignedDuration::try_from(d).ok()?;
        self.0.checked_sub(d).ok().and_then(Timestamp::held)
    }

    /// The time from `earlier` to `self`, or zero if `earlier` is later.
    pub fn saturating_duration_since(self, earlier: Timestamp) -> Duration {
        let d = self.0.as_nanosecond() - earlier.0.as_nanosecond();
        if d <= 0 {
            return Duration::ZERO;
        }
        let secs = u64::try_from(d / 1_000_000_000).unwrap_or(u64::MAX);
        // The remainder of a division by 1e9 always fits in u32.
        let nanos = u32::try_from(d % 1_000_000_000).unwrap_or(0);
        Duration::new(secs, nanos)
    }

    /// Writes the instant in RFC 3339 with as many fraction digits as it
    /// needs (none to nine), never losing precision: the form for a cursor.
    pub fn to_rfc3339_precise(self) -> String {
        let subsec = self.0.subsec_nanosecond();
        if subsec % 1_000_000 == 0 {
            return self.to_string();
        }
        // jiff's Display writes a UTC timestamp with the fraction it needs.
        self.0.to_string()
    }

    /// The current instant from the system clock (what
    /// [`crate::SystemClock`] reads), e.g. for [`crate::fold::Replica::apply_all`].
    /// The operations of this crate never call it: they take `now` as an
    /// argument.
    ///
    /// ```
    /// # use mana_sync_core::surface as mana_sync_ureq;
    /// use mana_sync_ureq::Timestamp;
    ///
    /// let now = Timestamp::now();
    /// assert!(now > Timestamp::UNIX_EPOCH);
    /// ```
    pub fn now() -> Timestamp {
        Timestamp(jiff::Timestamp::now())
    }
}

impl fmt::Display for Timestamp {
    /// JavaScript's `Date.prototype.toISOString()` form.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Years 0 to 9999 only (see `Timestamp::MIN`): four digits.
        let dt = jiff::tz::Offset::UTC.to_datetime(self.0);
        write!(
            f,
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
            dt.year(),
            dt.month(),
            dt.day(),
            dt.hour(),
            dt.minute(),
            dt.second(),
            dt.millisecond()
        )
    }
}

impl fmt::Debug for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Timestamp({})", self.to_rfc3339_precise())
    }
}

/// To and from [`jiff`]'s timestamp (the same instant, to the nanosecond),
/// for date arithmetic, time zones and formats of your own; the core
/// re-exports the crate as `mana_sync_core::jiff`.
///
/// ```
/// # use mana_sync_core::surface as mana_sync_ureq;
/// use mana_sync_ureq::{jiff, Timestamp};
///
/// let at = Timestamp::parse("2026-04-23T23:30:00.123456Z")?;
/// let instant: jiff::Timestamp = at.into();
/// assert_eq!(Timestamp::from(instant), at);
/// assert_eq!(at.date_utc(), jiff::civil::date(2026, 4, 23));
/// let in_berlin = instant.in_tz("Europe/Berlin");
/// # let _ = in_berlin;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
impl From<jiff::Timestamp> for Timestamp {
    fn from(instant: jiff::Timestamp) -> Timestamp {
        Timestamp(instant)
    }
}

impl From<Timestamp> for jiff::Timestamp {
    fn from(at: Timestamp) -> jiff::Timestamp {
        at.0
    }
}

impl Timestamp {
    /// The calendar date of this instant in UTC.
    pub fn date_utc(self) -> jiff::civil::Date {
        jiff::tz::Offset::UTC.to_datetime(self.0).date()
    }
}

impl FromStr for Timestamp {
    type Err = TimestampError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Timestamp::parse(s)
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        Timestamp::parse(&s).map_err(serde::de::Error::custom)
    }
}

/// A position in a collection's change log: the `syncedUntil` the server sent,
/// kept verbatim so that it goes back exactly as it came.
///
/// A paging cursor has microseconds; cut to milliseconds it would re-deliver
/// rows, and rounded up it would lose them. A `Cursor` can only hold text that
/// parses as a timestamp, so an unparseable `since` (which the server silently
/// reads as 1970) can never be sent. Cursors compare by instant.
///
/// ```
/// # use mana_sync_core::surface as mana_sync_ureq;
/// use mana_sync_ureq::Cursor;
///
/// let c = Cursor::parse("2026-11-24T22:21:44.564112Z")?;
/// assert_eq!(c.as_str(), "2026-11-24T22:21:44.564112Z");
/// assert!(Cursor::parse("yesterday").is_err());
/// # Ok::<(), mana_sync_ureq::TimestampError>(())
/// ```
#[derive(Clone)]
pub struct Cursor {
    text: std::borrow::Cow<'static, str>,
    at: Timestamp,
}

impl Cursor {
    /// The start of time: `1970-01-01T00:00:00.000Z`.
    pub const EPOCH: Cursor = Cursor {
        text: std::borrow::Cow::Borrowed("1970-01-01T00:00:00.000Z"),
        at: Timestamp::UNIX_EPOCH,
    };

    /// Parses a cursor, keeping the text as given.
    pub fn parse(text: &str) -> Result<Cursor, TimestampError> {
        let at = Timestamp::parse(text)?;
        Ok(Cursor {
            text: std::borrow::Cow::Owned(text.to_owned()),
            at,
        })
    }

    /// The text, exactly as parsed (or formatted, for a cursor made from a
    /// [`Timestamp`]).
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The instant.
    pub fn timestamp(&self) -> Timestamp {
        self.at
    }

    /// A cursor `overlap` earlier than this one (at the epoch at the latest),
    /// for re-reading a window of changes that may have committed late.
    pub fn held_back(&self, overlap: Duration) -> Cursor {
        if overlap.is_zero() {
            return self.clone();
        }
        match self.at.checked_sub(overlap) {
            Some(at) if at > Timestamp::UNIX_EPOCH => Cursor::from(at),
            _ => Cursor::EPOCH,
        }
    }
}

impl From<Timestamp> for Cursor {
    /// A cursor at `at`, written at full precision (a `Timestamp` is never
    /// before year 0, so the server reads every cursor made).
    fn from(at: Timestamp) -> Cursor {
        Cursor {
            text: std::borrow::Cow::Owned(at.to_rfc3339_precise()),
            at,
        }
    }
}

impl PartialEq for Cursor {
    fn eq(&self, other: &Self) -> bool {
        self.at == other.at
    }
}
impl Eq for Cursor {}
impl PartialOrd for Cursor {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Cursor {
    fn cmp(&self, other: &Self) -> Ordering {
        self.at.cmp(&other.at)
    }
}

impl fmt::Display for Cursor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl fmt::Debug for Cursor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Cursor({})", self.text)
    }
}

impl FromStr for Cursor {
    type Err = TimestampError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Cursor::parse(s)
    }
}

impl Serialize for Cursor {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.text)
    }
}

impl<'de> Deserialize<'de> for Cursor {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        Cursor::parse(&s).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(s: &str) -> Timestamp {
        Timestamp::parse(s).unwrap()
    }

    #[test]
    fn parses_every_fraction_width_and_offsets() {
        let base = ts("2026-11-24T22:21:44Z");
        for (text, nanos) in [
            ("2026-11-24T22:21:44Z", 0),
            ("2026-11-24T22:21:44.5Z", 500_000_000),
            ("2026-11-24T22:21:44.56Z", 560_000_000),
            ("2026-11-24T22:21:44.564Z", 564_000_000),
            ("2026-11-24T22:21:44.564112Z", 564_112_000),
            ("2026-11-24T22:21:44.564112001Z", 564_112_001),
            ("2026-11-24T23:21:44.564+01:00", 564_000_000),
            ("2026-11-24T20:21:44.564-02:00", 564_000_000),
        ] {
            let t = ts(text);
            assert_eq!(t.unix_nanos() - base.unix_nanos(), nanos, "{text}");
        }
    }

    #[test]
    fn an_error_shows_a_bounded_text_however_the_input_escapes() {
        // Found by fuzzing: 50 control characters, each shown as `\u{13}`,
        // made a 400-character message; 100 of U+10FFFF made one of 1100.
        for bad in [
            format!("\u{2}\u{0}{}", "\u{13}".repeat(48)),
            "\u{10ffff}".repeat(100),
            "x".repeat(10_000),
        ] {
            let shown = Timestamp::parse(&bad).unwrap_err().to_string();
            assert!(shown.chars().count() <= 250, "{}", shown.chars().count());
            assert!(shown.contains('…'), "the cut is marked: {shown}");
        }
        let shown = Timestamp::parse("yesterday").unwrap_err().to_string();
        assert!(
            shown.starts_with("not an RFC 3339 timestamp: \"yesterday\" (expected"),
            "{shown}"
        );
    }

    #[test]
    fn refuses_what_is_not_rfc3339() {
        for bad in [
            "",
            "yesterday",
            "2026-11-24",
            "2026-11-24T22:21:44",
            "2026-11-24T22:21:44.564",
            "2026-11-24T22:21:44+01",
            "2026-11-24T22:21:44Z[Europe/Berlin]",
            "2026-13-24T22:21:44Z",
            "2026-11-24T22:21:44.1234567890Z",
            "2026-11-24t22:21:44.564z",
            "2026-11-24 22:21:44Z",
            "20261124T222144Z",
            "2026-11-24T22:21Z",
            "+002026-11-24T22:21:44Z",
            "2026-11-24T22:21:44+24:00",
            "2026-12-31T23:59:60Z",
            "2026-02-30T00:00:00Z",
        ] {
            let err = Timestamp::parse(bad).unwrap_err();
            assert!(
                err.to_string().contains("not an RFC 3339 timestamp"),
                "{bad}"
            );
        }
    }

    #[test]
    fn writes_the_24_char_form() {
        assert_eq!(
            ts("2026-11-24T22:21:44Z").to_string(),
            "2026-11-24T22:21:44.000Z"
        );
        assert_eq!(
            ts("2026-11-24T22:21:44.564112999Z").to_string(),
            "2026-11-24T22:21:44.564Z"
        );
        assert_eq!(
            ts("0001-01-01T00:00:00+01:00").to_string(),
            "0000-12-31T23:00:00.000Z"
        );
        assert_eq!(
            Timestamp::UNIX_EPOCH.to_string(),
            "1970-01-01T00:00:00.000Z"
        );
        assert_eq!(ts("2026-11-24T22:21:44.1Z").to_string().len(), 24);
    }

    #[test]
    fn orders_by_instant_not_text() {
        // As strings, "…44.5Z" > "…44.123Z" only by luck of digits; with an
        // offset the textual order is plainly wrong.
        assert!(ts("2026-11-24T23:00:00+02:00") < ts("2026-11-24T22:00:00Z"));
        assert!(ts("2026-11-24T22:21:44.5Z") > ts("2026-11-24T22:21:44.123Z"));
        assert_eq!(ts("2026-11-24T22:21:44.500Z"), ts("2026-11-24T22:21:44.5Z"));
    }

    #[test]
    fn precise_form_keeps_every_digit() {
        let t = ts("2026-11-24T22:21:44.564112Z");
        assert_eq!(t.to_rfc3339_precise(), "2026-11-24T22:21:44.564112Z");
        assert_eq!(ts(&t.to_rfc3339_precise()), t);
        let t = ts("2026-11-24T22:21:44.100Z");
        assert_eq!(t.to_rfc3339_precise(), "2026-11-24T22:21:44.100Z");
    }

    #[test]
    fn cursor_keeps_text_verbatim() {
        let c = Cursor::parse("2026-11-24T22:21:45.993070461Z").unwrap();
        assert_eq!(c.as_str(), "2026-11-24T22:21:45.993070461Z");
        let json = serde_json::to_string(&c).unwrap();
        assert_eq!(json, "\"2026-11-24T22:21:45.993070461Z\"");
        let back: Cursor = serde_json::from_str(&json).unwrap();
        assert_eq!(back.as_str(), c.as_str());
        assert!(serde_json::from_str::<Cursor>("\"yesterday\"").is_err());
    }

    #[test]
    fn every_cursor_made_here_is_one_the_server_reads() {
        for millis in [
            i64::MIN,
            -377_705_116_800_001,
            -62_167_219_200_001,
            -62_167_219_200_000,
            0,
            1,
            253_402_300_799_999,
        ] {
            let Some(t) = Timestamp::from_unix_millis(millis) else {
                continue;
            };
            let c = Cursor::from(t);
            assert!(Cursor::parse(c.as_str()).is_ok(), "{millis}: {c}");
            assert!(c.held_back(Duration::from_secs(1)).as_str().len() >= 20);
        }
        assert_eq!(
            Timestamp::from_unix_nanos(-62_167_219_200_000_000_001),
            None
        );
        assert_eq!(
            Cursor::from(Timestamp::MIN).as_str(),
            "0000-01-01T00:00:00.000Z"
        );
        assert!(Cursor::parse("2026-11-24t22:21:44z").is_err());
        assert!(serde_json::from_str::<Cursor>("\"2026-11-24 22:21:44Z\"").is_err());
    }

    #[test]
    fn held_back_cursor() {
        let c = Cursor::parse("2026-11-24T22:21:45.5Z").unwrap();
        assert_eq!(
            c.held_back(Duration::from_secs(5)).as_str(),
            "2026-11-24T22:21:40.500Z"
        );
        assert_eq!(
            c.held_back(Duration::ZERO).as_str(),
            "2026-11-24T22:21:45.5Z"
        );
        assert_eq!(
            Cursor::EPOCH.held_back(Duration::from_secs(5)),
            Cursor::EPOCH
        );
    }

    #[test]
    fn durations() {
        let a = ts("2026-11-24T22:21:45Z");
        let b = a.checked_add(Duration::from_millis(1500)).unwrap();
        assert_eq!(b.saturating_duration_since(a), Duration::from_millis(1500));
        assert_eq!(a.saturating_duration_since(b), Duration::ZERO);
        assert_eq!(b.checked_sub(Duration::from_millis(1500)), Some(a));
    }
}
