//! Token verification against hand-made tokens: every claim and header rule.

use super::*;
use serde_json::json;

const NOW: i64 = 1_800_000_000;
const KEY: &[u8] = b"current-secret-current-secret-32";
const OLD: &[u8] = b"previous-secret-previous-secret!";

fn ex() -> Expected {
    Expected::default()
}

fn claims(sub: Option<&str>, iat: i64, exp: i64) -> serde_json::Value {
    let mut c = json!({"iat": iat, "exp": exp, "iss": DEFAULT_ISSUER, "aud": DEFAULT_AUDIENCE});
    if let Some(s) = sub {
        c["sub"] = json!(s);
    }
    c
}

fn hs256() -> serde_json::Value {
    json!({"alg": "HS256", "typ": "JWT"})
}

#[test]
fn accepts_a_minted_token_with_current_or_previous_secret() {
    let t = mint("alice", KEY, NOW, 900);
    assert_eq!(
        verify(&t, &[KEY, OLD], &ex(), NOW).map(|u| u.0),
        Ok("alice".into())
    );
    let t = mint("bob", OLD, NOW, 900);
    assert_eq!(
        verify(&t, &[KEY, OLD], &ex(), NOW).map(|u| u.0),
        Ok("bob".into())
    );
    assert_eq!(verify(&t, &[KEY], &ex(), NOW), Err(AuthError::Signature));
}

#[test]
fn refuses_other_algorithms_including_none() {
    let c = claims(Some("a"), NOW, NOW + 60);
    for alg in ["none", "HS512", "RS256", "hs256"] {
        let t = sign(&json!({"alg": alg}), &c, KEY);
        assert_eq!(
            verify(&t, &[KEY], &ex(), NOW),
            Err(AuthError::Algorithm(alg.into()))
        );
    }
    let p = URL_SAFE_NO_PAD.encode(c.to_string());
    let h = URL_SAFE_NO_PAD.encode(r#"{"alg":"none"}"#);
    assert_eq!(
        verify(&format!("{h}.{p}."), &[KEY], &ex(), NOW),
        Err(AuthError::Algorithm("none".into()))
    );
    let h = URL_SAFE_NO_PAD.encode(r#"{"typ":"JWT"}"#);
    assert_eq!(
        verify(&format!("{h}.{p}.x"), &[KEY], &ex(), NOW),
        Err(AuthError::Algorithm("missing".into()))
    );
}

#[test]
fn refuses_bad_signatures_and_tampered_claims() {
    let t = mint("alice", b"another-secret", NOW, 60);
    assert_eq!(verify(&t, &[KEY], &ex(), NOW), Err(AuthError::Signature));
    let good = mint("alice", KEY, NOW, 60);
    let parts: Vec<&str> = good.split('.').collect();
    let forged = URL_SAFE_NO_PAD.encode(claims(Some("mallory"), NOW, NOW + 60).to_string());
    assert_eq!(
        verify(
            &format!("{}.{}.{}", parts[0], forged, parts[2]),
            &[KEY],
            &ex(),
            NOW
        ),
        Err(AuthError::Signature)
    );
}

#[test]
fn refuses_expired_future_and_long_lived_tokens() {
    let t = sign(&hs256(), &claims(Some("a"), NOW - 600, NOW - 60), KEY);
    assert_eq!(verify(&t, &[KEY], &ex(), NOW), Err(AuthError::Expired));
    let t = sign(
        &hs256(),
        &json!({"sub": "a", "iat": NOW, "iss": DEFAULT_ISSUER, "aud": DEFAULT_AUDIENCE}),
        KEY,
    );
    assert_eq!(verify(&t, &[KEY], &ex(), NOW), Err(AuthError::Expired));
    let mut c = claims(Some("a"), NOW, NOW + 60);
    c["nbf"] = json!(NOW + 600);
    assert_eq!(
        verify(&sign(&hs256(), &c, KEY), &[KEY], &ex(), NOW),
        Err(AuthError::NotYetValid)
    );
    let t = sign(&hs256(), &claims(Some("a"), NOW, NOW + 3601), KEY);
    assert_eq!(verify(&t, &[KEY], &ex(), NOW), Err(AuthError::Lifetime));
    let t = sign(
        &hs256(),
        &json!({"sub": "a", "exp": NOW + 60, "iss": DEFAULT_ISSUER, "aud": DEFAULT_AUDIENCE}),
        KEY,
    );
    assert_eq!(verify(&t, &[KEY], &ex(), NOW), Err(AuthError::Lifetime));
    let t = sign(&hs256(), &claims(Some("a"), NOW, NOW + 3600), KEY);
    assert!(verify(&t, &[KEY], &ex(), NOW).is_ok());
}

#[test]
fn extreme_claims_do_not_wrap_around_into_a_valid_token() {
    // exp - iat overflows i64: without saturation it wraps to a negative lifetime.
    let t = sign(
        &hs256(),
        &claims(Some("a"), i64::MIN, NOW + 86_400 * 3650),
        KEY,
    );
    assert_eq!(verify(&t, &[KEY], &ex(), NOW), Err(AuthError::Lifetime));
    let t = sign(&hs256(), &claims(Some("a"), NOW, i64::MAX), KEY);
    assert_eq!(verify(&t, &[KEY], &ex(), NOW), Err(AuthError::Lifetime));
    let mut c = claims(Some("a"), NOW, NOW + 60);
    c["nbf"] = json!(i64::MAX);
    assert_eq!(
        verify(&sign(&hs256(), &c, KEY), &[KEY], &ex(), i64::MAX - 10),
        Err(AuthError::Expired)
    );
    let t = sign(&hs256(), &claims(Some("a"), i64::MAX, i64::MAX), KEY);
    assert_eq!(verify(&t, &[KEY], &ex(), NOW), Err(AuthError::NotYetValid));
}

#[test]
fn refuses_missing_subject_and_garbage() {
    let t = sign(&hs256(), &claims(None, NOW, NOW + 60), KEY);
    assert_eq!(verify(&t, &[KEY], &ex(), NOW), Err(AuthError::Subject));
    for sub in [" ", "a\u{0}b", "tab\there", &"x".repeat(256)] {
        let t = sign(&hs256(), &claims(Some(sub), NOW, NOW + 60), KEY);
        assert_eq!(
            verify(&t, &[KEY], &ex(), NOW),
            Err(AuthError::Subject),
            "{sub:?}"
        );
    }
    let t = sign(
        &hs256(),
        &claims(Some("o'brien\"; --$1 ünï 🙂"), NOW, NOW + 60),
        KEY,
    );
    assert!(verify(&t, &[KEY], &ex(), NOW).is_ok());
    for bad in ["", "a.b", "a.b.c.d", "!!.!!.!!", "e30.e30"] {
        assert!(verify(bad, &[KEY], &ex(), NOW).is_err(), "{bad}");
    }
    assert_eq!(verify("x.y.z", &[], &ex(), NOW), Err(AuthError::NoSecret));
}

#[test]
fn refuses_other_issuers_and_audiences() {
    let ok = claims(Some("a"), NOW, NOW + 60);
    let with = |k: &str, v: serde_json::Value| {
        let mut c = ok.clone();
        if v.is_null() {
            c.as_object_mut().map(|o| o.remove(k));
        } else {
            c[k] = v;
        }
        sign(&hs256(), &c, KEY)
    };
    for (iss, err) in [
        (json!(null), AuthError::Issuer),
        (json!("someone-else"), AuthError::Issuer),
        (json!(["todo-platform"]), AuthError::Malformed),
        (json!(""), AuthError::Issuer),
    ] {
        assert_eq!(
            verify(&with("iss", iss.clone()), &[KEY], &ex(), NOW),
            Err(err),
            "{iss}"
        );
    }
    for aud in [
        json!(null),
        json!("other-api"),
        json!(["a", "b"]),
        json!(7),
        json!([]),
    ] {
        assert_eq!(
            verify(&with("aud", aud.clone()), &[KEY], &ex(), NOW),
            Err(AuthError::Audience),
            "{aud}"
        );
    }
    let t = with("aud", json!(["other-api", DEFAULT_AUDIENCE]));
    assert!(verify(&t, &[KEY], &ex(), NOW).is_ok());
    // Configured values replace the defaults.
    let mine = Expected {
        issuer: "https://id.example".into(),
        audience: "tasks".into(),
    };
    let t = mint_for("a", &mine, KEY, NOW, 60);
    assert!(verify(&t, &[KEY], &mine, NOW).is_ok());
    assert_eq!(verify(&t, &[KEY], &ex(), NOW), Err(AuthError::Issuer));
    assert!(verify(&mint("a", KEY, NOW, 60), &[KEY], &ex(), NOW).is_ok());
}

#[test]
fn refuses_critical_header_parameters() {
    let c = claims(Some("a"), NOW, NOW + 60);
    for crit in [
        json!(["exp"]),
        json!(["b64"]),
        json!([]),
        json!("x"),
        json!(null),
    ] {
        let t = sign(
            &json!({"alg": "HS256", "crit": crit, "b64": false}),
            &c,
            KEY,
        );
        assert_eq!(
            verify(&t, &[KEY], &ex(), NOW),
            if crit.is_null() {
                Ok(UserId("a".into()))
            } else {
                Err(AuthError::Critical)
            },
            "{crit}"
        );
    }
}

#[test]
fn refuses_to_use_secrets_shorter_than_32_bytes() {
    let short = b"too-short-secret";
    let t = mint("a", short, NOW, 60);
    let e = verify(&t, &[short], &ex(), NOW).unwrap_err();
    assert_eq!(e, AuthError::WeakSecret(16));
    assert!(e.is_configuration());
    assert_eq!(
        e.to_string(),
        "a signing secret has 16 bytes; at least 32 are required"
    );
    // A short previous secret is refused too, even for a token of the current one.
    let t = mint("a", KEY, NOW, 60);
    assert_eq!(
        verify(&t, &[KEY, &OLD[..31]], &ex(), NOW),
        Err(AuthError::WeakSecret(31))
    );
    assert_eq!(check_secret(KEY), Ok(()));
    assert_eq!(check_secret(b""), Err(AuthError::NoSecret));
    assert!(!AuthError::Signature.is_configuration());
}

#[test]
fn the_email_claim_is_answered_when_usable_and_never_refuses_the_token() {
    let mut c = claims(Some("a@b"), NOW, NOW + 60);
    c["email"] = json!("alice@example.com");
    let id = verify_identity(&sign(&hs256(), &c, KEY), &[KEY], &ex(), NOW).unwrap();
    assert_eq!(
        (id.user.as_str(), id.email.as_deref()),
        ("a@b", Some("alice@example.com"))
    );
    for unusable in [
        json!(null),
        json!(5),
        json!(["x@example.com"]),
        json!(""),
        json!("a@example.com\r\nBcc: b@example.com"),
        json!(format!("{}@example.com", "a".repeat(250))),
    ] {
        c["email"] = unusable.clone();
        let id = verify_identity(&sign(&hs256(), &c, KEY), &[KEY], &ex(), NOW).unwrap();
        assert_eq!(id.email, None, "{unusable}");
    }
    let t = mint("bob", KEY, NOW, 60);
    assert_eq!(verify_identity(&t, &[KEY], &ex(), NOW).unwrap().email, None);
}

#[test]
fn bearer_header_parsing() {
    assert_eq!(bearer(Some("Bearer abc")), Ok("abc"));
    assert_eq!(bearer(Some("bearer  abc ")), Ok("abc"));
    assert_eq!(bearer(Some("Basic abc")), Err(AuthError::Missing));
    assert_eq!(bearer(Some("Bearer ")), Err(AuthError::Missing));
    assert_eq!(bearer(None), Err(AuthError::Missing));
}
