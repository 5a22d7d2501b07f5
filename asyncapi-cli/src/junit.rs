//! JUnit XML for the live runner's report, the format CI systems read test results in.

use std::fmt::Write;

use crate::live::{LiveReport, Status};

/// The report as a JUnit XML document: a `testsuite` per channel, a `testcase` per example.
pub fn to_junit(report: &LiveReport) -> String {
    let mut channels: Vec<&str> = Vec::new();
    for case in &report.cases {
        if !channels.contains(&case.channel.as_str()) {
            channels.push(&case.channel);
        }
    }
    let total: f64 = report.cases.iter().map(|c| c.seconds).sum();
    let mut xml = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        xml,
        "<testsuites name=\"asyncapi-rs test\" tests=\"{}\" failures=\"{}\" skipped=\"{}\" time=\"{total:.3}\">",
        report.cases.len(),
        report.failed(),
        report.skipped(),
    );
    for channel in channels {
        let cases: Vec<_> = report
            .cases
            .iter()
            .filter(|c| c.channel == channel)
            .collect();
        let count = |status| cases.iter().filter(|c| c.status == status).count();
        let time: f64 = cases.iter().map(|c| c.seconds).sum();
        let _ = writeln!(
            xml,
            "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{}\" skipped=\"{}\" time=\"{time:.3}\">",
            escape(channel),
            cases.len(),
            count(Status::Failed),
            count(Status::Skipped),
        );
        for case in cases {
            let _ = write!(
                xml,
                "    <testcase classname=\"{}\" name=\"{}\" time=\"{:.3}\"",
                escape(&case.channel),
                escape(&format!("{}/{}", case.message, case.example)),
                case.seconds
            );
            let detail = case.failures.join("\n");
            match case.status {
                Status::Passed => xml.push_str("/>\n"),
                Status::Failed => {
                    let first = case.failures.first().map_or("", String::as_str);
                    let _ = write!(
                        xml,
                        ">\n      <failure message=\"{}\">{}</failure>\n    </testcase>\n",
                        escape(first),
                        escape(&detail)
                    );
                }
                Status::Skipped => {
                    let _ = write!(
                        xml,
                        ">\n      <skipped message=\"{}\"/>\n    </testcase>\n",
                        escape(&detail)
                    );
                }
            }
        }
        xml.push_str("  </testsuite>\n");
    }
    xml.push_str("</testsuites>\n");
    xml
}

/// Escapes text for XML attributes and content; drops characters XML 1.0 cannot hold.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\n' | '\t' | '\r' => out.push(c),
            c if (c as u32) < 0x20 => {}
            c => out.push(c),
        }
    }
    out
}
