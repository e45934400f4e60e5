//! The recognition dictionary: the names of a rec model's classes, which come with its
//! model set (the model's metadata or a file).

/// The recogniser's classes: class 0 is the CTC blank, then the dictionary's entries, then
/// a space.
#[derive(Debug, Clone, PartialEq)]
pub struct Dictionary {
    classes: Vec<String>,
}

impl Dictionary {
    /// One entry a line. A `\r` before the newline is dropped; every other character is
    /// kept exactly, since one entry is a space-like character. The newline ending the
    /// last entry does not make an empty one.
    pub fn parse(text: &str) -> Self {
        let body = text.strip_suffix('\n').unwrap_or(text);
        let mut classes = vec![String::new()];
        if !body.is_empty() {
            classes.extend(body.split('\n').map(|e| e.strip_suffix('\r').unwrap_or(e).to_owned()));
        }
        classes.push(" ".to_owned());
        Self { classes }
    }

    /// Entries read from the source, without the blank and the final space.
    pub fn entries(&self) -> usize {
        self.classes.len() - 2
    }

    /// The text of class `k`: the blank is empty, the last class a space.
    pub fn class(&self, k: usize) -> Option<&str> {
        self.classes.get(k).map(String::as_str)
    }

    /// Classes the model must output.
    pub fn classes(&self) -> usize {
        self.classes.len()
    }
}
