"""Forms: the fields filled in, and what their values lack, in the page's language — each
field by its column title, what is wrong with it, and what was typed."""

from __future__ import annotations

from pydantic import ValidationError

from pvmon.i18n import Lang, MissingText, text

KNOWN = {
    "missing": "form.missing",
    "float_parsing": "form.not_a_number",
    "float_type": "form.not_a_number",
    "int_parsing": "form.not_a_whole_number",
    "date_from_datetime_parsing": "form.not_a_date",
    "date_parsing": "form.not_a_date",
    "greater_than_equal": "form.too_small",
    "greater_than": "form.too_small",
    "less_than_equal": "form.too_large",
    "string_pattern_mismatch": "form.bad_pattern",
    "string_too_short": "form.too_short",
    "string_too_long": "form.too_long",
    "enum": "form.not_a_choice",
}


def problems(exc: ValidationError, lang: Lang) -> str:
    """``exc``'s problems, one clause each."""
    out = []
    for error in exc.errors():
        field = str(error["loc"][-1]) if error["loc"] else ""
        try:
            name = text(f"col.{field}", lang)
        except MissingText:
            name = field
        key = KNOWN.get(error["type"])
        what = text(key, lang) if key else error["msg"]
        got = error.get("input")
        shown = f"（{got}）" if lang == "zh" else f" ({got})"
        out.append(f"{name}：{what}{shown if isinstance(got, str | int | float) else ''}")
    return "；".join(out) if lang == "zh" else "; ".join(out)


def filled(**values: str | None) -> dict[str, str]:
    """A form's fields that were filled in, trimmed (an empty field is a value not given)."""
    return {k: v.strip() for k, v in values.items() if v is not None and v.strip()}
