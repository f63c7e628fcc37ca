//! Value canonicalisation: CBV URNs to Web URIs, numbers, GS1 keys and timestamps.
//!
//! Every function here is pure and total: a value that is not recognised is returned
//! unchanged, except timestamps, whose failure the caller reports as a typed error.

use std::borrow::Cow;

use crate::dl;

/// Old CBV URN prefixes and their CBV 2.0 Web URI replacements.
const CBV_URN_TO_WEB: [(&str, &str); 5] = [
    (
        "urn:epcglobal:cbv:bizstep:",
        "https://ref.gs1.org/cbv/BizStep-",
    ),
    ("urn:epcglobal:cbv:disp:", "https://ref.gs1.org/cbv/Disp-"),
    ("urn:epcglobal:cbv:btt:", "https://ref.gs1.org/cbv/BTT-"),
    ("urn:epcglobal:cbv:sdt:", "https://ref.gs1.org/cbv/SDT-"),
    ("urn:epcglobal:cbv:er:", "https://ref.gs1.org/cbv/ER-"),
];

/// Python's `str.strip()` whitespace: Unicode White_Space plus the four ASCII
/// information separators, which the reference implementation also strips.
pub(crate) fn trim(s: &str) -> &str {
    s.trim_matches(|c: char| c.is_whitespace() || ('\u{1c}'..='\u{1f}').contains(&c))
}

/// Canonical form of a (trimmed, non-time) value: CBV URNs become Web URIs, numbers lose
/// redundant digits, GS1 keys become constrained canonical Digital Link URIs.
pub(crate) fn canonize(text: &str) -> Cow<'_, str> {
    // A canonical GTIN + serial or SSCC URI has no CBV URN in it (no ':' after the scheme)
    // and is not a number: every step below would leave it as it is.
    if dl::is_plain_canonical(text) {
        return Cow::Borrowed(text);
    }
    // Every CBV URN starts the same way: one search rules out all of them (an event's
    // `action`, zone offset and CBV Web URIs are canonized on every event).
    let mut out = Cow::Borrowed(text);
    if text.contains("urn:epcglobal:cbv:") {
        let mut rewritten = text.to_owned();
        for (urn, web) in CBV_URN_TO_WEB {
            if rewritten.contains(urn) {
                rewritten = rewritten.replace(urn, web);
            }
        }
        out = Cow::Owned(rewritten);
    }
    if let Some(number) = numeric(&out) {
        out = Cow::Owned(number);
    }
    match dl::normalise(&out) {
        Some(link) => Cow::Owned(link),
        None => out,
    }
}

/// If `text` is a number in Python `float()` syntax, its Python `str()` form after
/// dropping a zero fraction ("452.0" -> "452", "+1.50" -> "1.5", "1e-5" -> "1e-05").
/// Infinities and NaN are left alone (the reference crashes or keeps them as text).
pub(crate) fn numeric(text: &str) -> Option<String> {
    if !is_python_float(text) {
        return None;
    }
    let cleaned: String = text.chars().filter(|c| *c != '_').collect();
    let value: f64 = cleaned.parse().ok()?;
    if !value.is_finite() {
        return None;
    }
    if value.fract() == 0.0 {
        if value == 0.0 {
            return Some("0".to_owned());
        }
        // Exact decimal expansion, like Python's str(int(value)).
        return Some(format!("{value:.0}"));
    }
    Some(python_repr(value))
}

/// Python's repr of a finite, non-integral f64: shortest round-trip digits, scientific
/// notation below 1e-4 with a signed two-digit exponent.
fn python_repr(value: f64) -> String {
    let sci = format!("{value:e}");
    let Some((mantissa, exp)) = sci.split_once('e') else {
        return format!("{value}");
    };
    let Ok(exp) = exp.parse::<i32>() else {
        return format!("{value}");
    };
    if exp >= -4 {
        // Non-integral values are below 2^53 < 1e16, so fixed notation applies.
        return format!("{value}");
    }
    let sign = if exp < 0 { '-' } else { '+' };
    format!("{mantissa}e{sign}{:02}", exp.unsigned_abs())
}

/// Python `float()` literal syntax (ASCII digits), excluding inf/nan spellings.
fn is_python_float(text: &str) -> bool {
    let b = text.as_bytes();
    let mut i = 0;
    if i < b.len() && (b[i] == b'+' || b[i] == b'-') {
        i += 1;
    }
    let (int_digits, next) = digit_part(b, i);
    i = next;
    let mut frac_digits = 0;
    if i < b.len() && b[i] == b'.' {
        let (n, next) = digit_part(b, i + 1);
        frac_digits = n;
        i = next;
    }
    if int_digits == 0 && frac_digits == 0 {
        return false;
    }
    if i < b.len() && (b[i] == b'e' || b[i] == b'E') {
        i += 1;
        if i < b.len() && (b[i] == b'+' || b[i] == b'-') {
            i += 1;
        }
        let (n, next) = digit_part(b, i);
        if n == 0 {
            return false;
        }
        i = next;
    }
    i == b.len()
}

/// Digits with single underscores between them (PEP 515); returns (digit count, end).
fn digit_part(b: &[u8], start: usize) -> (usize, usize) {
    let mut i = start;
    let mut count = 0;
    while i < b.len() {
        if b[i].is_ascii_digit() {
            count += 1;
            i += 1;
        } else if b[i] == b'_' && count > 0 && i + 1 < b.len() && b[i + 1].is_ascii_digit() {
            i += 1;
        } else {
            break;
        }
    }
    (count, i)
}

/// Normalise an ISO 8601 date-time with zone to UTC at millisecond precision,
/// `YYYY-MM-DDTHH:MM:SS.mmmZ`. Fractions beyond microseconds are truncated, then
/// microseconds are rounded half-to-even to milliseconds (as the reference does).
/// A value without a zone is rejected: its meaning would depend on the machine.
pub(crate) fn timestamp(text: &str) -> Option<String> {
    let total_ms = timestamp_ms(text)?;
    let days = total_ms.div_euclid(86_400_000);
    let rest = total_ms.rem_euclid(86_400_000);
    let (y, m, d) = civil_from_days(days);
    Some(format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{:03}Z",
        rest / 3_600_000,
        rest / 60_000 % 60,
        rest / 1_000 % 60,
        rest % 1_000
    ))
}

/// The instant of an ISO 8601 date-time with zone, in milliseconds since 1970-01-01T00:00Z,
/// read and rounded exactly as [`timestamp`] does; `None` where it fails. The UTC year is
/// 1 to 9999, so the value fits an `i64` with room to spare.
pub(crate) fn timestamp_ms(text: &str) -> Option<i64> {
    let b = text.as_bytes();
    let year = num(b, 0, 4)?;
    expect(b, 4, b'-')?;
    let month = num(b, 5, 2)?;
    expect(b, 7, b'-')?;
    let day = num(b, 8, 2)?;
    if !matches!(b.get(10), Some(b'T' | b't' | b' ')) {
        return None;
    }
    let hour = num(b, 11, 2)?;
    expect(b, 13, b':')?;
    let minute = num(b, 14, 2)?;
    let mut i = 16;
    let mut second = 0;
    let mut micros: i64 = 0;
    if b.get(i) == Some(&b':') {
        second = num(b, i + 1, 2)?;
        i += 3;
        if matches!(b.get(i), Some(b'.' | b',')) {
            let start = i + 1;
            let mut end = start;
            while end < b.len() && b[end].is_ascii_digit() {
                end += 1;
            }
            if end == start {
                return None;
            }
            let mut digits: String = text[start..end.min(start + 6)].to_owned();
            while digits.len() < 6 {
                digits.push('0');
            }
            micros = digits.parse().ok()?;
            i = end;
        }
    }
    let offset_minutes = zone(&b[i..])?;
    let max_day = days_in_month(year, month)?;
    if year < 1 || day < 1 || day > max_day || hour > 23 || minute > 59 || second > 59 {
        return None;
    }
    let millis = round_half_even_millis(micros);
    let days = days_from_civil(year, month, day);
    let total_ms = ((days * 86_400 + hour * 3_600 + minute * 60 + second - offset_minutes * 60)
        * 1_000)
        + millis;
    let (y, _, _) = civil_from_days(total_ms.div_euclid(86_400_000));
    (1..=9999).contains(&y).then_some(total_ms)
}

/// An EPCIS `eventTimeZoneOffset`, `+hh:mm` or `-hh:mm` from -14:00 to +14:00 (the JSON
/// schema's pattern), in minutes east of UTC.
pub(crate) fn time_zone_offset_min(text: &str) -> Option<i32> {
    let b = text.as_bytes();
    if b.len() != 6 || b[3] != b':' {
        return None;
    }
    let sign = match b[0] {
        b'+' => 1,
        b'-' => -1,
        _ => return None,
    };
    let (hours, minutes) = (num(b, 1, 2)?, num(b, 4, 2)?);
    if minutes > 59 || hours * 60 + minutes > 14 * 60 {
        return None;
    }
    i32::try_from(sign * (hours * 60 + minutes)).ok()
}

fn num(b: &[u8], start: usize, len: usize) -> Option<i64> {
    let part = b.get(start..start + len)?;
    if !part.iter().all(u8::is_ascii_digit) {
        return None;
    }
    Some(part.iter().fold(0, |acc, d| acc * 10 + i64::from(d - b'0')))
}

fn expect(b: &[u8], at: usize, c: u8) -> Option<()> {
    (b.get(at) == Some(&c)).then_some(())
}

/// `Z`, `±HH:MM`, `±HHMM` or `±HH`; returns the offset east of UTC in minutes.
fn zone(b: &[u8]) -> Option<i64> {
    match b {
        [b'Z' | b'z'] => Some(0),
        [sign @ (b'+' | b'-'), rest @ ..] => {
            let (h, m) = match rest.len() {
                2 => (num(rest, 0, 2)?, 0),
                4 => (num(rest, 0, 2)?, num(rest, 2, 2)?),
                5 if rest[2] == b':' => (num(rest, 0, 2)?, num(rest, 3, 2)?),
                _ => return None,
            };
            if h > 23 || m > 59 {
                return None;
            }
            let minutes = h * 60 + m;
            Some(if *sign == b'-' { -minutes } else { minutes })
        }
        _ => None,
    }
}

fn round_half_even_millis(micros: i64) -> i64 {
    let (q, r) = (micros / 1_000, micros % 1_000);
    if r > 500 || (r == 500 && q % 2 == 1) {
        q + 1
    } else {
        q
    }
}

fn days_in_month(year: i64, month: i64) -> Option<i64> {
    let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    Some(match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return None,
    })
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_numeric_matches_python_str_float() {
        let table = [
            ("452.0", Some("452")),
            ("+5", Some("5")),
            ("007", Some("7")),
            ("12.10", Some("12.1")),
            ("0.0001", Some("0.0001")),
            ("0.00001", Some("1e-05")),
            ("-1.5e-7", Some("-1.5e-07")),
            ("1e3", Some("1000")),
            ("1_000", Some("1000")),
            ("-0.0", Some("0")),
            (".5", Some("0.5")),
            ("5.", Some("5")),
            ("1__0", None),
            ("_1", None),
            ("nan", None),
            ("inf", None),
            ("1e400", None),
            ("e5", None),
            ("A93", None),
            ("+01:00", None),
        ];
        for (input, want) in table {
            assert_eq!(numeric(input).as_deref(), want, "input {input:?}");
        }
    }

    #[test]
    fn test_timestamp_to_utc_millis() {
        let table = [
            (
                "2022-02-16T20:33:31.116000-06:00",
                Some("2022-02-17T02:33:31.116Z"),
            ),
            (
                "2023-02-02T11:04:03.1415Z",
                Some("2023-02-02T11:04:03.142Z"),
            ),
            (
                "2023-02-02T11:04:03.1425Z",
                Some("2023-02-02T11:04:03.142Z"),
            ),
            (
                "2023-02-02T11:04:03.1414Z",
                Some("2023-02-02T11:04:03.141Z"),
            ),
            (
                "2023-12-31T23:59:59.9996Z",
                Some("2024-01-01T00:00:00.000Z"),
            ),
            (
                "2020-03-04T11:00:30+01:00",
                Some("2020-03-04T10:00:30.000Z"),
            ),
            ("2020-02-29T00:00:00+0100", Some("2020-02-28T23:00:00.000Z")),
            ("2019-02-29T00:00:00Z", None),
            ("2019-10-21T14:45:00", None),
            ("2019-10-21", None),
            ("not a time", None),
            ("2019-10-21T14:45:00.Z", None),
        ];
        for (input, want) in table {
            assert_eq!(timestamp(input).as_deref(), want, "input {input:?}");
        }
    }

    #[test]
    fn test_timestamp_ms_counts_from_the_unix_epoch() {
        let table = [
            ("1970-01-01T00:00:00Z", Some(0)),
            ("1970-01-01T08:00:00.001+08:00", Some(1)),
            ("1969-12-31T23:59:59.999Z", Some(-1)),
            ("2025-01-10T08:00:00+08:00", Some(1_736_467_200_000)),
            ("0001-01-01T00:00:00Z", Some(-62_135_596_800_000)),
            ("0001-01-01T00:00:00+00:01", None),
            ("9999-12-31T23:59:59.999Z", Some(253_402_300_799_999)),
            ("9999-12-31T23:59:59.999-00:01", None),
            ("2025-01-10T08:00:00", None),
        ];
        for (input, want) in table {
            assert_eq!(timestamp_ms(input), want, "input {input:?}");
        }
    }

    #[test]
    fn test_time_zone_offset_follows_the_schema_pattern() {
        let table = [
            ("+08:00", Some(480)),
            ("-06:30", Some(-390)),
            ("+00:00", Some(0)),
            ("-14:00", Some(-840)),
            ("+14:01", None),
            ("+15:00", None),
            ("+08:60", None),
            ("08:00", None),
            ("+0800", None),
            ("Z", None),
            ("+08:00 ", None),
            ("", None),
        ];
        for (input, want) in table {
            assert_eq!(time_zone_offset_min(input), want, "input {input:?}");
        }
    }
}
