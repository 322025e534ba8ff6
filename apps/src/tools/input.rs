//! Checks of tool inputs, each failing with [`ToolError::Input`] naming the
//! field (never quoting a long value back).

use super::ToolError;

fn bad(field: &str, message: impl Into<String>) -> ToolError {
    ToolError::Input {
        field: field.to_owned(),
        message: message.into(),
    }
}

/// `value` has `min..=max` characters (as JavaScript counts them: UTF-16
/// units).
pub(crate) fn length(field: &str, value: &str, min: usize, max: usize) -> Result<(), ToolError> {
    let n = value.encode_utf16().count();
    if n < min {
        return Err(bad(
            field,
            if min == 1 {
                "must not be empty".to_owned()
            } else {
                format!("must have at least {min} characters")
            },
        ));
    }
    if n > max {
        return Err(bad(
            field,
            format!("has {n} characters; at most {max} are allowed"),
        ));
    }
    Ok(())
}

/// The same for an optional value.
pub(crate) fn length_opt(
    field: &str,
    value: Option<&str>,
    min: usize,
    max: usize,
) -> Result<(), ToolError> {
    value.map_or(Ok(()), |v| length(field, v, min, max))
}

/// `value` is within `min..=max`.
pub(crate) fn range<N: PartialOrd + std::fmt::Display>(
    field: &str,
    value: N,
    min: N,
    max: N,
) -> Result<(), ToolError> {
    if value < min || value > max {
        return Err(bad(
            field,
            format!("must be from {min} to {max}, got {value}"),
        ));
    }
    Ok(())
}

/// At most `max` items.
pub(crate) fn items<T>(field: &str, value: &[T], max: usize) -> Result<(), ToolError> {
    if value.len() > max {
        return Err(bad(
            field,
            format!("has {} items; at most {max} are allowed", value.len()),
        ));
    }
    Ok(())
}

fn digits(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

/// `YYYY-MM-DD` (the shape the browser stores; the zod schema checks only
/// the digits, this also the month and day ranges).
pub(crate) fn date(field: &str, value: &str) -> Result<(), ToolError> {
    let parts: Vec<&str> = value.split('-').collect();
    let ok = matches!(parts.as_slice(), [y, m, d] if y.len() == 4 && m.len() == 2 && d.len() == 2
        && digits(y) && digits(m) && digits(d)
        && (1..=12).contains(&m.parse::<u8>().unwrap_or(0))
        && (1..=31).contains(&d.parse::<u8>().unwrap_or(0)));
    if ok {
        Ok(())
    } else {
        Err(bad(field, "must be a date YYYY-MM-DD"))
    }
}

/// An optional date.
pub(crate) fn date_opt(field: &str, value: Option<&str>) -> Result<(), ToolError> {
    value.map_or(Ok(()), |v| date(field, v))
}

/// `HH:mm`.
pub(crate) fn time(field: &str, value: &str) -> Result<(), ToolError> {
    let ok = matches!(value.split_once(':'), Some((h, m)) if h.len() == 2 && m.len() == 2
        && digits(h) && digits(m) && h.parse::<u8>().unwrap_or(99) < 24 && m.parse::<u8>().unwrap_or(99) < 60);
    if ok {
        Ok(())
    } else {
        Err(bad(field, "must be a time HH:mm (24 h)"))
    }
}

/// `#rrggbb`.
pub(crate) fn color(field: &str, value: &str) -> Result<(), ToolError> {
    let ok = value.len() == 7
        && value.starts_with('#')
        && value.bytes().skip(1).all(|b| b.is_ascii_hexdigit());
    if ok {
        Ok(())
    } else {
        Err(bad(field, "must be a colour #rrggbb"))
    }
}

/// A UUID (what the browser and the tools give records).
pub(crate) fn uuid(field: &str, value: &str) -> Result<(), ToolError> {
    uuid::Uuid::try_parse(value)
        .map(|_| ())
        .map_err(|_| bad(field, "must be a record id (a UUID)"))
}

/// An ISO-8601 date-time (`2026-05-20T16:52:24Z`, offsets allowed).
pub(crate) fn datetime(field: &str, value: &str) -> Result<(), ToolError> {
    mana_sync_core::Timestamp::parse(value)
        .map(|_| ())
        .map_err(|_| {
            bad(
                field,
                "must be an ISO-8601 date-time, e.g. 2026-05-20T16:52:24Z",
            )
        })
}
