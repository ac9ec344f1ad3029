"""A sweep's legibility as another reader (or combination) gives it, from the rows alone.

Every sweep row keeps each reader's own values (`<reader>_text_words`, `<reader>_word_recall`,
`<reader>_char_accuracy`) beside the combined ones the sweep's `reader` setting made
(`text_words`, `seen_word_recall`, `seen_char_accuracy`). `with_readers` recombines them, so a
sweep read by both readers can be judged by either, the looser, the stricter or `auto`,
without reading anything again (`toolkit recommend --reader`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from toolkit.errors import SettingsError
from toolkit.formatting import counted
from toolkit.readers import AUTO, THIN_WORDS, ReaderSpec


def with_readers(results: pd.DataFrame, reader: str, combine: str = "looser") -> pd.DataFrame:
    """`results` with `reader`, `text_words`, `seen_word_recall` and `seen_char_accuracy` as
    `reader` ("tesseract", "neural", "tesseract,neural" combined as `combine`, or "auto")
    gives them.

    Raises:
        SettingsError: the rows hold no values of a reader named (it was not run), or, for
            "auto", an image it would judge by its second reader was not read by it.
    """
    spec = ReaderSpec.parse(reader, combine)
    out = results.copy()
    measured = out["text_words"].notna()
    for name in spec.required:
        if measured.any() and out.loc[measured, f"{name}_text_words"].isna().all():
            ran = sorted(set(out["reader"].dropna()))
            raise SettingsError(
                f"the results hold no legibility read by {name} (read by {ran}): sweep with "
                f"--ocr --reader {','.join(spec.names)}"
            )
    if spec.combine == AUTO:
        first, second = (out[f"{name}_text_words"] for name in spec.names)
        unread = measured & first.between(1, THIN_WORDS - 1) & second.isna()
        unread &= out["reader"] != AUTO  # (an auto sweep without the second reader: as swept)
        if unread.any():
            raise SettingsError(
                f"{counted(out.loc[unread, 'path'].nunique(), 'image')} {spec.names[0]} reads "
                f"in fewer than {THIN_WORDS} words were not read by {spec.names[1]}: sweep "
                f"with --ocr --reader {AUTO} (or {','.join(spec.names)}) to judge them as {AUTO}"
            )
    words = out[[f"{name}_text_words" for name in spec.names]]
    out["text_words"] = words.max(axis=1).where(measured)
    if spec.combine == AUTO:
        judged = [spec.judge(row) for row in words.to_numpy(dtype=float)]
    for measure in ("word_recall", "char_accuracy"):
        values = out[[f"{name}_{measure}" for name in spec.names]].to_numpy(dtype=float)
        if spec.combine == AUTO:
            out[f"seen_{measure}"] = values[np.arange(len(values)), judged]
        else:
            pick = np.fmax if spec.combine == "looser" else np.fmin  # NaN: that reader saw none
            out[f"seen_{measure}"] = pick.reduce(values, axis=1)
    out.loc[measured, "reader"] = spec.describe()
    return out
