//! How pmacct 1.7.7 prints the GeoIP v2 primitives: countries and postal codes as strings (empty
//! when none), coordinates with `%f` in CSV / formatted output and as jansson reals in JSON.

use crate::aggregate::Primitive;
use crate::record::FlowFields;

/// The country code as text (empty when none).
pub fn country(code: &[u8; 2]) -> String {
    let n = code.iter().position(|b| *b == 0).unwrap_or(code.len());
    String::from_utf8_lossy(&code[..n]).into_owned()
}

/// The coordinate a coords column prints: latitude, or longitude when `lon`.
pub fn coord(p: Primitive, k: &FlowFields, lon: bool) -> f64 {
    let bits = match (p, lon) {
        (Primitive::DstHostCoords, false) => k.dst_lat,
        (Primitive::DstHostCoords, true) => k.dst_lon,
        (_, false) => k.src_lat,
        (_, true) => k.src_lon,
    };
    f64::from_bits(bits)
}

/// Appends the value of a GeoIP primitive (the latitude for coords) as CSV prints it.
pub fn write(out: &mut String, p: Primitive, k: &FlowFields) {
    match p {
        Primitive::SrcHostCountry => out.push_str(&country(&k.src_country)),
        Primitive::DstHostCountry => out.push_str(&country(&k.dst_country)),
        Primitive::SrcHostPocode => out.push_str(&crate::enrich::labels::name(k.src_pocode)),
        Primitive::DstHostPocode => out.push_str(&crate::enrich::labels::name(k.dst_pocode)),
        _ => out.push_str(&c_f(coord(p, k, false))),
    }
}

/// C's `printf("%f", v)`.
pub fn c_f(v: f64) -> String {
    if v.is_nan() {
        return if v.is_sign_negative() { "-nan".into() } else { "nan".into() };
    }
    if v.is_infinite() {
        return if v < 0.0 { "-inf".into() } else { "inf".into() };
    }
    format!("{v:.6}")
}

/// C's `%.*g` for a finite `v` (precision `prec` ≥ 1): `%e` or `%f` by the exponent, trailing
/// zeros removed.
fn c_g(v: f64, prec: usize) -> String {
    if v == 0.0 {
        return if v.is_sign_negative() { "-0".into() } else { "0".into() };
    }
    let sci = format!("{:.*e}", prec - 1, v);
    let (mant, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let strip = |s: &str| -> String {
        if s.contains('.') {
            s.trim_end_matches('0').trim_end_matches('.').to_string()
        } else {
            s.to_string()
        }
    };
    let p = i32::try_from(prec).unwrap_or(17);
    if exp < -4 || exp >= p {
        let sign = if exp < 0 { '-' } else { '+' };
        format!("{}e{sign}{:02}", strip(mant), exp.unsigned_abs())
    } else {
        let decimals = usize::try_from(p - 1 - exp).unwrap_or(0);
        strip(&format!("{v:.decimals$}"))
    }
}

/// jansson's encoding of a real (`json_real`, default precision): `%.17g`, with `.0` added
/// when the result would read back as an integer and the exponent without `+` or leading
/// zeros. `None` for NaN and infinities, which jansson refuses (pmacct's key is then missing).
pub fn json_real(v: f64) -> Option<String> {
    if !v.is_finite() {
        return None;
    }
    let mut s = c_g(v, 17);
    if !s.contains(['.', 'e']) {
        s.push_str(".0");
    }
    if let Some(at) = s.find('e') {
        let (head, exp) = s.split_at(at + 1);
        let (neg, digits) = match exp.strip_prefix('-') {
            Some(d) => (true, d),
            None => (false, exp.trim_start_matches('+')),
        };
        let digits = digits.trim_start_matches('0');
        s = format!("{head}{}{digits}", if neg { "-" } else { "" });
    }
    Some(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn c_formats() {
        assert_eq!(c_f(51.5142), "51.514200");
        assert_eq!(c_f(-0.0931), "-0.093100");
        assert_eq!(c_f(0.0), "0.000000");
        assert_eq!(c_g(51.5142, 17), "51.514200000000002");
        assert_eq!(c_g(-1.25, 17), "-1.25");
        assert_eq!(c_g(0.0931, 17), "0.093100000000000002");
        assert_eq!(c_g(1e-5, 17), "1.0000000000000001e-05");
        assert_eq!(c_g(1e20, 17), "1e+20");
    }

    #[test]
    fn jansson_reals() {
        assert_eq!(json_real(0.0).as_deref(), Some("0.0"));
        assert_eq!(json_real(13.0).as_deref(), Some("13.0"));
        assert_eq!(json_real(-1.25).as_deref(), Some("-1.25"));
        assert_eq!(json_real(51.5142).as_deref(), Some("51.514200000000002"));
        assert_eq!(json_real(1e-5).as_deref(), Some("1.0000000000000001e-5"));
        assert_eq!(json_real(1e20).as_deref(), Some("1e20"));
        assert_eq!(json_real(f64::NAN), None);
    }

    #[test]
    fn countries() {
        assert_eq!(country(b"GB"), "GB");
        assert_eq!(country(&[0, 0]), "");
        assert_eq!(country(&[b'X', 0]), "X");
    }
}
