//! The commented TOML that `ztel config default` prints: `Config::default()` serialised, with
//! each key's doc comment above it. A test parses the result back and compares it with
//! `Config::default()`, and another checks that every key is explained.

use documented::{Documented, DocumentedFields};
use toml_edit::{DocumentMut, Item, Table};

use super::{
    Admin, Config, Formats, Histograms, HttpInput, Inputs, Limits, Nats, Output, PlainInput,
    TlsInput,
};

/// The full default configuration as commented TOML.
pub fn default_toml() -> String {
    // Serialising ztel's own default cannot fail: every value is a string, number or list.
    let plain = toml::to_string(&Config::default()).expect("the default config serialises");
    let mut doc: DocumentMut = plain.parse().expect("toml's own output parses");
    describe(doc.as_table_mut(), &[]);
    format!("{}\n{doc}", comment(Config::DOCS))
}

/// Puts each key's doc above it, and each table's above its header, depth first.
fn describe(table: &mut Table, path: &[&str]) {
    for (mut key, item) in table.iter_mut() {
        let name = key.get().to_owned();
        let doc = field_doc(path, &name);
        match item {
            Item::Table(sub) => {
                if let Some(doc) = doc {
                    sub.decor_mut().set_prefix(format!("\n{}", comment(doc)));
                }
                let mut inner = path.to_vec();
                inner.push(&name);
                describe(sub, &inner);
            }
            _ => {
                if let Some(doc) = doc {
                    key.leaf_decor_mut().set_prefix(comment(doc));
                }
            }
        }
    }
}

/// The doc comment of field `name` of the section at `path`.
fn field_doc(path: &[&str], name: &str) -> Option<&'static str> {
    let docs = match path {
        [] => Config::get_field_docs(name),
        ["input"] => Inputs::get_field_docs(name),
        ["input", "tcp" | "udp"] => PlainInput::get_field_docs(name),
        ["input", "tls"] => TlsInput::get_field_docs(name),
        ["input", "http"] => HttpInput::get_field_docs(name),
        ["limits"] => Limits::get_field_docs(name),
        ["formats"] => Formats::get_field_docs(name),
        ["output"] => Output::get_field_docs(name),
        ["output", "nats"] => Nats::get_field_docs(name),
        ["admin"] => Admin::get_field_docs(name),
        ["histograms"] => Histograms::get_field_docs(name),
        _ => return None,
    };
    docs.ok()
}

/// Doc text as TOML comment lines.
fn comment(doc: &str) -> String {
    doc.lines()
        .map(|line| match line.trim() {
            "" => "#\n".to_owned(),
            text => format!("# {text}\n"),
        })
        .collect()
}
