//! Numbers as text, one way everywhere (terminal tables, report, figures):
//! percentages, percentage points, tonnes, money and counts. A value that
//! rounds to zero is shown as zero, never "-0.00"; tonnes keep three
//! significant digits below 100 t, so a small material's shortfall never
//! shows as "0 t".

/// `x` with `d` decimals, without a minus sign when it rounds to zero.
pub fn fixed(x: f64, d: usize) -> String {
    let s = format!("{x:.d$}");
    match s.strip_prefix('-') {
        Some(rest) if rest.chars().all(|c| c == '0' || c == '.') => rest.to_string(),
        _ => s,
    }
}

/// A fraction as a percentage with two decimals: `0.01234` -> `1.23%`.
pub fn pct(x: f64) -> String {
    format!("{}%", fixed(x * 100.0, 2))
}

/// A difference of fractions in percentage points, two decimals.
pub fn pp(x: f64) -> String {
    fixed(x * 100.0, 2)
}

/// A reduction with its 95% confidence interval, in percentage points.
pub fn pp_ci(v: f64, ci: [f64; 2]) -> String {
    format!("{} [{}, {}]", pp(v), pp(ci[0]), pp(ci[1]))
}

/// `n` with its noun: "1 commodity", "2 commodities".
pub fn count(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// An integer with thousands separators: `20000` -> `20,000`.
pub fn thousands(n: u64) -> String {
    group(&n.to_string())
}

/// Digits grouped by thousands (`digits` holds only ASCII digits).
fn group(digits: &str) -> String {
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// A whole amount with thousands separators: `-1234.4` -> `-1,234`.
pub fn whole(x: f64) -> String {
    if !x.is_finite() {
        return x.to_string();
    }
    let s = fixed(x, 0);
    match s.strip_prefix('-') {
        Some(d) => format!("-{}", group(d)),
        None => group(&s),
    }
}

/// Tonnes: whole tonnes with separators from 100 t, three significant
/// digits below (`9.1`, `0.0234`; below a gram, `2.5e-7`), `0` only for zero.
pub fn tonnes(x: f64) -> String {
    let a = x.abs();
    if !x.is_finite() || a >= 99.95 || a == 0.0 {
        return whole(x);
    }
    if a < 1e-6 {
        let s = format!("{x:.2e}");
        return s.replacen(".00e", "e", 1).replacen("0e", "e", 1);
    }
    let d = (2 - a.log10().floor() as i32).clamp(1, 12) as usize;
    let s = fixed(x, d);
    // Trim trailing zeros of the decimals ("9.10" -> "9.1").
    let s = s.trim_end_matches('0').trim_end_matches('.').to_string();
    if s == "0" || s == "-0" { "0".into() } else { s }
}

/// A number as given in a message: as Rust writes it for ordinary
/// magnitudes (`0.25`, `1.2`, `-3`), in exponent form beyond them (`1e160`,
/// `1e-200`), so a huge or tiny value never prints hundreds of digits.
pub fn num(x: f64) -> String {
    let a = x.abs();
    if x.is_finite() && a != 0.0 && !(1e-6..1e15).contains(&a) {
        format!("{x:e}")
    } else {
        x.to_string()
    }
}

/// Money per year or per horizon: whole units with separators.
pub fn money(x: f64) -> String {
    whole(x)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn message_numbers_stay_short() {
        assert_eq!(num(1e160), "1e160");
        assert_eq!(num(-1e308), "-1e308");
        assert_eq!(num(1e-200), "1e-200");
        assert_eq!(num(5e-324), "5e-324");
        assert_eq!(num(1.9e19), "1.9e19");
        assert_eq!(num(0.25), "0.25");
        assert_eq!(num(1.2), "1.2");
        assert_eq!(num(-3.0), "-3");
        assert_eq!(num(0.0), "0");
        assert_eq!(num(123456.5), "123456.5");
        assert_eq!(num(f64::INFINITY), "inf");
    }

    #[test]
    fn no_negative_zero() {
        assert_eq!(pct(-1e-9), "0.00%");
        assert_eq!(pp(-0.0), "0.00");
        assert_eq!(pp(-0.00004), "0.00");
        assert_eq!(pp(-0.0001), "-0.01");
        assert_eq!(whole(-0.2), "0");
        assert_eq!(tonnes(-0.0), "0");
    }

    #[test]
    fn tonnes_keep_significant_digits() {
        assert_eq!(tonnes(1234567.4), "1,234,567");
        assert_eq!(tonnes(999.0), "999");
        assert_eq!(tonnes(-1000.0), "-1,000");
        assert_eq!(tonnes(9.1), "9.1");
        assert_eq!(tonnes(0.02346), "0.0235");
        assert_eq!(tonnes(99.949), "99.9");
        assert_eq!(tonnes(0.0), "0");
        assert_eq!(tonnes(3.57e-200), "3.57e-200");
        assert_eq!(tonnes(2.5e-7), "2.5e-7");
        assert_eq!(tonnes(1e-9), "1e-9");
    }

    #[test]
    fn counts_and_percentages() {
        assert_eq!(thousands(20_000), "20,000");
        assert_eq!(thousands(999), "999");
        assert_eq!(pct(0.01234), "1.23%");
    }
}
