"""Cut Tailwind 2's prebuilt `dist/tailwind.min.css` (2.9 MB, npm package tailwindcss@2.2.19) down to
its base layer plus the utility classes the gallery's Tailwind look uses, as Tailwind's own purge
step would. The rules are Tailwind's, byte for byte; only unused ones are dropped.

    npm pack tailwindcss@2.2.19 && tar xzf tailwindcss-2.2.19.tgz
    python bench/gallery/vendor/tailwind_subset.py package/dist/tailwind.min.css > bench/gallery/vendor/tailwindcss-2.2.19/tailwind.subset.css
"""
from __future__ import annotations

import sys

# Every class the Tailwind look (bench/gallery/looks.py) puts on its elements.
USED = {
    "table-auto", "border-collapse", "border", "border-gray-300", "border-gray-200", "bg-white", "bg-gray-50",
    "bg-gray-100", "px-3", "px-2", "py-1", "py-2", "text-right", "text-center", "text-left", "font-semibold",
    "font-medium", "text-gray-600", "text-gray-700", "text-gray-900", "tabular-nums", "divide-y", "divide-gray-200",
    "rounded-lg", "shadow", "p-4", "font-sans",
}


def rules(css: str):
    """Top-level blocks `(prelude, whole text)` of a minified stylesheet; comments kept as their own block."""
    i, n = 0, len(css)
    while i < n:
        if css.startswith("/*", i):
            j = css.index("*/", i) + 2
            yield "", css[i:j]
            i = j
            continue
        j, depth = i, 0
        while j < n:
            if css[j] == "{":
                depth += 1
            elif css[j] == "}":
                depth -= 1
                if depth == 0:
                    break
            j += 1
        block = css[i:j + 1]
        yield block[:block.index("{")].strip(), block
        i = j + 1


def keep(prelude: str) -> bool:
    if not prelude:
        return True  # licence comments
    if prelude.startswith("@"):
        return False  # media queries, keyframes: variants the look does not use
    selectors = [s.strip() for s in prelude.split(",")]
    if all("." not in s for s in selectors):
        return True  # the base layer: element and universal selectors
    return all(s.startswith(".") and s[1:].split(">")[0].strip() in USED for s in selectors)


def main(path: str) -> None:
    css = open(path, encoding="utf-8").read()
    sys.stdout.write("".join(block for prelude, block in rules(css) if keep(prelude)) + "\n")


if __name__ == "__main__":
    main(sys.argv[1])
