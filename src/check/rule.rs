//! Rules: metadata validation, statements, default finding locations, and the index by document kind.

use std::sync::Arc;

use super::Checker;
use crate::diagnostic::{Code, Diagnostic, suggestion};
use crate::functions::Ty;
use crate::input::Kind;
use crate::ir::{Check, Expr, ExprId, Rule, RuleInfo, Severity, Stmt};
use crate::syntax::ast::{self, ExprKind};

const FIELDS: [&str; 7] = ["title", "severity", "applies_to", "controls", "remediation", "tags", "url"];

impl Checker<'_> {
    pub(super) fn compile_rules(&mut self, file: &ast::File) {
        for item in &file.items {
            if let ast::Item::Rule(rule) = item {
                self.rule(rule);
            }
        }
    }

    fn rule(&mut self, rule: &ast::RuleDecl) {
        let origin = self.origin(rule.id.span);
        if rule.id.name.trim().is_empty() {
            self.error(Code::Metadata, rule.id.span, "a rule id cannot be empty");
        }
        if let Some(first) = self.rule_ids.get(&rule.id.name).copied() {
            let source = self.program.sources[first.source as usize].clone();
            let related = Diagnostic::new(Code::Duplicate, &source, first.span, "first defined here");
            self.error(Code::Duplicate, rule.id.span, format!("rule id `{}` is used twice", rule.id.name))
                .related
                .push(related);
        } else {
            self.rule_ids.insert(rule.id.name.clone(), origin);
        }
        let info = self.metadata(rule);
        self.begin_frame();
        let body = self.stmts(&rule.body, true);
        let locals = self.end_frame();
        if !has_check(&body) {
            self.error(
                Code::EmptyRule,
                rule.id.span,
                format!("rule `{}` has no `require` or `forbid`", rule.id.name),
            )
            .help = Some("a rule without checks can never report anything".into());
        }
        let index = self.program.rules.len() as u32;
        for kind in Kind::ALL {
            if info.kinds.iter().any(|k| k.covers(*kind)) {
                self.program.by_kind[*kind as usize].push(index);
            }
        }
        self.program.rules.push(Rule { info: Arc::new(info), body, locals });
    }

    fn metadata(&mut self, rule: &ast::RuleDecl) -> RuleInfo {
        let (line, _) = self.src().line_col(rule.span.start);
        let mut info = RuleInfo {
            id: rule.id.name.clone(),
            title: String::new(),
            description: rule.doc.clone(),
            severity: Severity::Medium,
            kinds: Vec::new(),
            controls: Vec::new(),
            remediation: None,
            tags: Vec::new(),
            url: None,
            package: self.package.clone(),
            file: self.src().name().to_string(),
            line,
            plugins: Vec::new(),
        };
        let mut seen: Vec<&str> = Vec::new();
        for stmt in &rule.body {
            let ast::Stmt::Meta { name, value } = stmt else { continue };
            if seen.contains(&name.name.as_str()) {
                self.error(Code::Duplicate, name.span, format!("`{}` is set twice", name.name));
                continue;
            }
            seen.push(&name.name);
            match name.name.as_str() {
                "title" => info.title = self.meta_string(value).unwrap_or_default(),
                "remediation" => info.remediation = self.meta_string(value),
                "url" => info.url = self.meta_string(value),
                "controls" => info.controls = self.meta_strings(value),
                "tags" => info.tags = self.meta_strings(value),
                "severity" => info.severity = self.meta_severity(value),
                "applies_to" => info.kinds = self.meta_kinds(value),
                other => {
                    let help =
                        suggestion(other, FIELDS).or_else(|| Some(format!("rule fields are {}", FIELDS.join(", "))));
                    self.error(Code::Metadata, name.span, format!("unknown rule field `{other}`")).help = help;
                }
            }
        }
        for (field, example) in
            [("title", "title = \"...\""), ("severity", "severity = high"), ("applies_to", "applies_to = ModelCard")]
        {
            if !seen.contains(&field) {
                self.error(Code::Metadata, rule.id.span, format!("rule `{}` has no `{field}`", rule.id.name)).help =
                    Some(format!("add `{example}`"));
            }
        }
        info
    }

    fn meta_string(&mut self, value: &ast::Expr) -> Option<String> {
        match &value.kind {
            ExprKind::Str(s) => Some(s.clone()),
            _ => {
                self.error(Code::Metadata, value.span, "expected a string literal");
                None
            }
        }
    }

    fn meta_strings(&mut self, value: &ast::Expr) -> Vec<String> {
        match &value.kind {
            ExprKind::Str(s) => vec![s.clone()],
            ExprKind::Array(items) => items.iter().filter_map(|i| self.meta_string(i)).collect(),
            _ => {
                self.error(Code::Metadata, value.span, "expected a list of strings, such as `[\"OWASP-LLM03\"]`");
                Vec::new()
            }
        }
    }

    fn meta_severity(&mut self, value: &ast::Expr) -> Severity {
        let (text, span) = match &value.kind {
            ExprKind::Name(n) | ExprKind::Str(n) => (n.as_str(), value.span),
            _ => ("", value.span),
        };
        match text.parse::<Severity>() {
            Ok(s) => s,
            Err(_) => {
                let names = Severity::ALL.map(|s| s.name());
                let help = suggestion(text, names).unwrap_or_else(|| "use info, low, medium, high or critical".into());
                let shown = if text.is_empty() { "this".to_string() } else { format!("`{text}`") };
                self.error(Code::Metadata, span, format!("{shown} is not a severity")).help = Some(help);
                Severity::Medium
            }
        }
    }

    fn meta_kinds(&mut self, value: &ast::Expr) -> Vec<Kind> {
        let items: Vec<&ast::Expr> = match &value.kind {
            ExprKind::Array(items) => items.iter().collect(),
            _ => vec![value],
        };
        let mut kinds = Vec::new();
        for item in items {
            match &item.kind {
                ExprKind::Name(n) => match n.parse::<Kind>() {
                    Ok(k) => kinds.push(k),
                    Err(_) => self.unknown_kind(n, item.span),
                },
                _ => {
                    self.error(Code::Metadata, item.span, "expected a document kind, such as `ModelCard`");
                }
            }
        }
        if kinds.is_empty() && matches!(value.kind, ExprKind::Array(ref v) if v.is_empty()) {
            self.error(Code::Metadata, value.span, "`applies_to` needs at least one document kind");
        }
        kinds
    }

    fn stmts(&mut self, stmts: &[ast::Stmt], top: bool) -> Vec<Stmt> {
        let mut out = Vec::new();
        for stmt in stmts {
            match stmt {
                ast::Stmt::Meta { name, .. } => {
                    if !top {
                        self.error(
                            Code::Metadata,
                            name.span,
                            format!("`{}` belongs at the top of the rule, not in a `for` block", name.name),
                        );
                    }
                }
                ast::Stmt::Let { name, value } => {
                    let (id, ty) = self.expr(value);
                    let slot = self.bind_checked(name);
                    if let Some(local) = self.scopes.last_mut().and_then(|s| s.last_mut()) {
                        local.ty = ty;
                    }
                    self.let_values.insert(slot, id);
                    out.push(Stmt::Let { slot, value: id });
                }
                ast::Stmt::When(cond) => {
                    let (id, ty) = self.expr(cond);
                    self.expect(ty, Ty::BOOL, cond.span, "`when` needs a boolean");
                    out.push(Stmt::When(id));
                }
                ast::Stmt::Check(check) => out.push(Stmt::Check(self.check_stmt(check))),
                ast::Stmt::For { binding, body, .. } => {
                    self.push_scope();
                    let lp = self.binding(binding);
                    let body = self.stmts(body, false);
                    self.pop_scope();
                    out.push(Stmt::For { lp, body });
                }
            }
        }
        out
    }

    fn check_stmt(&mut self, check: &ast::Check) -> Check {
        let (cond, ty) = self.expr(&check.cond);
        let keyword = if check.forbid { "forbid" } else { "require" };
        self.expect(ty, Ty::BOOL, check.cond.span, &format!("`{keyword}` needs a boolean condition"));
        let message = check.message.as_ref().map(|t| self.template(t));
        let at = match &check.at {
            Some(at) => Some(self.expr(at).0),
            None => self.first_path(cond),
        };
        Check { forbid: check.forbid, cond, message, at }
    }

    /// The first path into the data (`input.x.y`, a loop variable's member, ...) a condition reads, in
    /// evaluation order: where a finding points when the rule does not say `at`.
    fn first_path(&self, id: ExprId) -> Option<ExprId> {
        match &self.program.exprs[id as usize] {
            // A `let` holds a computed value: look through it to the data it was computed from.
            Expr::Local(slot) => match self.let_values.get(slot) {
                Some(&value) => self.first_path(value).or(Some(id)),
                None => Some(id),
            },
            Expr::Input | Expr::Doc => Some(id),
            // A member of data is a path; a member of a computed value (`split(x, "/")[0]`) is not, but
            // what it was computed from may be.
            Expr::Field(..) | Expr::Index(..) => {
                if self.is_data_path(id) {
                    return Some(id);
                }
                let mut root = id;
                while let Expr::Field(obj, _) | Expr::Index(obj, _) = &self.program.exprs[root as usize] {
                    root = *obj;
                }
                self.first_path(root)
            }
            Expr::Const(_) | Expr::Documents(_) => None,
            Expr::Not(x)
            | Expr::Neg(x)
            | Expr::IsNull(x, _)
            | Expr::Exists(x)
            | Expr::InSet(x, _, _)
            | Expr::Matches(x, _) => self.first_path(*x),
            Expr::And(a, b)
            | Expr::Or(a, b)
            | Expr::Compare(_, a, b)
            | Expr::Arith(_, a, b)
            | Expr::Default(a, b)
            | Expr::In(a, b, _)
            | Expr::MatchesDynamic(a, b) => self.first_path(*a).or_else(|| self.first_path(*b)),
            Expr::Call(_, args) | Expr::CallUser(_, args) | Expr::Array(args) => {
                args.iter().find_map(|a| self.first_path(*a))
            }
            Expr::Object(entries) => entries.iter().find_map(|(_, a)| self.first_path(*a)),
            // Inside a quantifier, a path through its own variables would point at whichever element came
            // last; only paths from outside count.
            Expr::Quantified(_, lp, cond) => self.first_path(lp.source).or_else(|| {
                let inner = cond.and_then(|c| self.first_path(c))?;
                (!self.rooted_at(inner, &[lp.key, Some(lp.var)])).then_some(inner)
            }),
            Expr::Comprehension(_, loops) => loops.first().and_then(|lp| self.first_path(lp.source)),
            Expr::If(c, t, e) => self.first_path(*c).or_else(|| self.first_path(*t)).or_else(|| self.first_path(*e)),
            Expr::Template(_) => None,
        }
    }
}

impl Checker<'_> {
    /// Whether a path starts at one of `slots`.
    fn rooted_at(&self, mut id: ExprId, slots: &[Option<u32>]) -> bool {
        while let Expr::Field(obj, _) | Expr::Index(obj, _) = &self.program.exprs[id as usize] {
            id = *obj;
        }
        matches!(&self.program.exprs[id as usize], Expr::Local(s) if slots.contains(&Some(*s)))
    }

    /// Whether an expression evaluates to a node of the document (a path through data or data-valued lets).
    fn is_data_path(&self, id: ExprId) -> bool {
        match &self.program.exprs[id as usize] {
            Expr::Input | Expr::Doc => true,
            Expr::Local(slot) => self.let_values.get(slot).is_none_or(|&v| self.is_data_path(v)),
            Expr::Field(obj, _) | Expr::Index(obj, _) => self.is_data_path(*obj),
            _ => false,
        }
    }
}

fn has_check(stmts: &[Stmt]) -> bool {
    stmts.iter().any(|s| match s {
        Stmt::Check(_) => true,
        Stmt::For { body, .. } => has_check(body),
        _ => false,
    })
}
