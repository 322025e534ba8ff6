//! Standard base64 as the browser writes and reads it: written with `=`
//! padding; read with or without it, and with non-zero trailing bits (as
//! `atob` reads it).
//!
//! A SIMD engine (`base64-simd`, ~4× the `base64` crate on 200 bytes) does
//! the work; whatever it refuses goes to the `base64` crate's decoder,
//! which alone decides what is accepted. The SIMD engine accepts only text
//! that decoder accepts too, to the same bytes (see the tests): the result
//! is the decoder's for every input.

use base64::alphabet;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use base64::Engine;
use base64_simd::{Base64, Out};

/// Standard alphabet; writes `=` padding, reads with or without it (as the
/// browser's `atob` does).
pub(crate) const BASE64: GeneralPurpose = GeneralPurpose::new(
    &alphabet::STANDARD,
    GeneralPurposeConfig::new()
        .with_decode_padding_mode(DecodePaddingMode::Indifferent)
        .with_decode_allow_trailing_bits(true),
);

/// The SIMD engine for `text`: padded text is a multiple of 4 long.
fn simd_for(text: &[u8]) -> &'static Base64 {
    if text.len().is_multiple_of(4) {
        &base64_simd::STANDARD
    } else {
        &base64_simd::STANDARD_NO_PAD
    }
}

/// Appends the padded base64 of `bytes` to `out`.
pub(crate) fn encode_append(bytes: &[u8], out: &mut String) {
    base64_simd::STANDARD.encode_append(bytes, out);
}

/// The characters [`encode_append`] writes for `len` bytes.
pub(crate) fn encoded_len(len: usize) -> usize {
    len.div_ceil(3).saturating_mul(4)
}

/// Appends the bytes of `text` to `out`; `out` is unchanged on error.
pub(crate) fn decode_append(text: &str, out: &mut Vec<u8>) -> Result<(), base64::DecodeError> {
    let len = out.len();
    if simd_for(text.as_bytes()).decode_append(text, out).is_ok() {
        return Ok(());
    }
    out.truncate(len);
    BASE64
        .decode_vec(text, out)
        .inspect_err(|_| out.truncate(len))
}

/// The `N` bytes of `text` (16 characters for 12 bytes), if it is exactly
/// the base64 of `N` bytes, without allocating. `None` leaves the verdict
/// to [`decode_append`].
pub(crate) fn decode_array<const N: usize>(text: &str) -> Option<[u8; N]> {
    let mut array = [0u8; N];
    if text.len() != encoded_len(N) {
        return None;
    }
    let simd = simd_for(text.as_bytes());
    // The engine panics when the output does not fit: ask first.
    if matches!(simd.decoded_length(text.as_bytes()), Ok(n) if n == N)
        && simd
            .decode(text.as_bytes(), Out::from_slice(&mut array))
            .is_ok_and(|bytes| bytes.len() == N)
    {
        return Some(array);
    }
    match BASE64.decode_slice(text, &mut array) {
        Ok(n) if n == N => Some(array),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn reference(text: &str) -> Option<Vec<u8>> {
        BASE64.decode(text).ok()
    }

    fn fast(text: &str) -> Option<Vec<u8>> {
        let mut out = vec![9, 9];
        let result = decode_append(text, &mut out);
        assert_eq!(&out[..2], &[9, 9]);
        match result {
            Ok(()) => Some(out[2..].to_vec()),
            Err(_) => {
                assert_eq!(out, [9, 9], "unchanged on error");
                None
            }
        }
    }

    #[test]
    fn edge_cases_decide_as_the_base64_crate() {
        for text in [
            "",
            "A",
            "AA",
            "AAA",
            "AAAA",
            "AA==",
            "AAA=",
            "A===",
            "AB==", // non-zero trailing bits: accepted, as atob does
            "ABC=", // idem
            "AB",   // unpadded, trailing bits
            "AA=A",
            "=AAA",
            "AAAA=",
            "AAAA==",
            "AAAAAA",
            "AAAAAA=",
            "AAAAAA==",
            "AA AA",
            "AAAA\n",
            "-_-_", // URL-safe alphabet: refused
            "+/+/",
            "aGVsbG8gd29ybGQ=",
            "aGVsbG8gd29ybGQ",
        ] {
            assert_eq!(fast(text), reference(text), "{text:?}");
        }
    }

    #[test]
    fn arrays() {
        assert_eq!(decode_array::<12>("AQEBAQEBAQEBAQEB"), Some([1; 12]));
        assert_eq!(decode_array::<12>("AQEBAQEBAQEBAQE"), None);
        assert_eq!(decode_array::<12>("AQEBAQEBAQEBAQ=="), None);
        assert_eq!(decode_array::<12>("AQEBAQEBAQEBAQE_"), None);
        assert_eq!(decode_array::<2>("AQH="), Some([1, 1]));
        assert_eq!(decode_array::<2>("AQE="), Some([1, 1]));
        assert_eq!(decode_array::<2>("AQEB"), None, "3 bytes, not 2");
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(4096))]

        #[test]
        fn decoding_matches_the_base64_crate(text in "[A-Za-z0-9+/=_\\- ]{0,40}") {
            prop_assert_eq!(fast(&text), reference(&text));
        }

        #[test]
        fn decoding_encoded_text_matches(bytes in prop::collection::vec(any::<u8>(), 0..300), cut in 0usize..3) {
            let mut text = String::new();
            encode_append(&bytes, &mut text);
            prop_assert_eq!(&text, &BASE64.encode(&bytes));
            prop_assert_eq!(text.len(), encoded_len(bytes.len()));
            // Without padding, and with a changed last character.
            let unpadded = text.trim_end_matches('=').to_owned();
            prop_assert_eq!(fast(&unpadded), reference(&unpadded));
            if let Some(last) = unpadded.chars().last() {
                let alt = if last == 'A' { 'B' } else { 'A' };
                let mut changed = unpadded[..unpadded.len() - 1].to_owned();
                changed.push(alt);
                for _ in 0..cut { changed.push('='); }
                prop_assert_eq!(fast(&changed), reference(&changed));
            }
        }
    }
}
