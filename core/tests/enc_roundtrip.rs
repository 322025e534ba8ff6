//! Property tests of `enc:1:` and the `JSON.stringify` writer over arbitrary
//! JSON values.

#![allow(clippy::unwrap_used)]

use mana_sync_core::crypto::{
    decrypt_value, encrypt_value, to_js_json, CryptoError, Iv, MasterKey,
};
use proptest::prelude::*;
use serde_json::{Map, Number, Value};

fn any_string() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        "[\\x00-\\x1f\"\\\\/\u{7f}\u{2028}\u{2029}a-z0-9]{0,12}"
    ]
}

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        (-(1i64 << 53)..=(1i64 << 53)).prop_map(Value::from),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(|f| Number::from_f64(f).map_or(Value::Null, Value::Number)),
        any_string().prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::vec((prop_oneof![any_string(), "[0-9]{1,3}"], inner), 0..6)
                .prop_map(|members| Value::Object(members.into_iter().collect::<Map<_, _>>())),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn decrypt_inverts_encrypt(value in json_value(), key in any::<[u8; 32]>(), iv in any::<[u8; 12]>()) {
        let key = MasterKey::from_bytes(&key).unwrap();
        let wire = encrypt_value(&key, &Iv::from_bytes(iv), &value);
        if value.is_null() {
            prop_assert!(wire.is_null());
        } else {
            prop_assert!(wire.as_str().unwrap().starts_with("enc:1:"));
        }
        let back = decrypt_value(&key, &wire).unwrap();
        prop_assert_eq!(to_js_json(&back), to_js_json(&value));
    }

    #[test]
    fn js_json_is_json_and_stable(value in json_value()) {
        let text = to_js_json(&value);
        let parsed: Value = serde_json::from_str(&text).unwrap();
        prop_assert_eq!(to_js_json(&parsed), text);
    }

    #[test]
    fn numbers_survive_the_trip(f in any::<f64>().prop_filter("finite", |f| f.is_finite())) {
        let text = to_js_json(&Value::Number(Number::from_f64(f).unwrap()));
        let back: f64 = text.parse().unwrap();
        prop_assert!(back == f, "{} -> {} -> {}", f, text, back);
    }

    #[test]
    fn a_wrong_key_never_yields_a_value(value in json_value(), iv in any::<[u8; 12]>()) {
        prop_assume!(!value.is_null());
        let wire = encrypt_value(&MasterKey::from_bytes(&[1; 32]).unwrap(), &Iv::from_bytes(iv), &value);
        let other = MasterKey::from_bytes(&[2; 32]).unwrap();
        prop_assert_eq!(decrypt_value(&other, &wire), Err(CryptoError::Auth));
    }
}

#[test]
fn keys_never_show() {
    let sentinel = [0x5a_u8; 32];
    let key = MasterKey::from_bytes(&sentinel).unwrap();
    let b64 = "WlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlo=";
    assert_eq!(MasterKey::from_base64(b64).unwrap(), key);
    let wire = encrypt_value(&key, &Iv::from_bytes([0; 12]), &Value::from("x"));
    let errors = [
        decrypt_value(&MasterKey::from_bytes(&[1; 32]).unwrap(), &wire).unwrap_err(),
        MasterKey::from_base64(&b64[..20]).unwrap_err(),
        MasterKey::from_bytes(&sentinel[..31]).unwrap_err(),
    ];
    let mut shown = vec![format!("{key:?}"), format!("{:?}", key.clone())];
    for e in &errors {
        shown.push(format!("{e:?}"));
        shown.push(e.to_string());
    }
    for text in shown {
        assert!(
            !text.contains("WlpaWlpa") && !text.contains("90, 90") && !text.contains("5a5a"),
            "{text}"
        );
    }
}
