//! The derives, compiled: what must work, and every misuse with the error it must give.

#[test]
fn derives() {
    let cases = trybuild::TestCases::new();
    cases.pass("tests/derive/pass/*.rs");
    cases.compile_fail("tests/derive/fail/*.rs");
}
