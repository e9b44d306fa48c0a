"""The doc-test conventions: which blocks run, which output they must print."""

from __future__ import annotations

from tests.docs.mdblocks import blocks, names_from_skippable, output_matches

DOC = '''# A doc

```python
x = 1
print(x)
```

prints

```text
1
```

```bash
echo not run
```

```python output
def f_grad(x):
    ...
```

```python skip: needs a cluster
connect()
```

```python
import jax
y = jax.numpy.ones(3)
```

```python gpu
z = 2
```

```python
print(y, z)
```
'''


def test_blocks_and_their_outputs(tmp_path):
    doc = tmp_path / "doc.md"
    doc.write_text(DOC)
    found = blocks(doc)
    assert [b.line for b in found] == [4, 24, 28, 33, 37]
    first = found[0]
    assert first.text == "x = 1\nprint(x)\n" and first.expected == "1\n"
    assert first.expected_line == 11
    assert found[1].skip_reason == "needs a cluster" and found[1].expected is None
    assert found[2].optional_imports() == {"jax"}
    assert found[3].needs_gpu and not found[0].needs_gpu
    # the "python output" block after a bash block belongs to nobody
    assert all(b.expected is None for b in found[1:])
    assert names_from_skippable(found) == [
        "line 37 reads 'y', bound only by the block at line 28, which is skipped where "
        "its library or GPU is missing",
        "line 37 reads 'z', bound only by the block at line 33, which is skipped where "
        "its library or GPU is missing"]


def test_a_name_bound_again_by_a_running_block_is_fine(tmp_path):
    doc = tmp_path / "doc.md"
    doc.write_text("```python\nimport torch\nt = 1\n```\n\n```python\nt = 2\nprint(t)\n```\n")
    assert names_from_skippable(blocks(doc)) == []


def test_output_matching():
    assert output_matches("a\nb\n", "a  \nb\n\n")
    assert not output_matches("a\nb\n", "a\nc\n")
    assert not output_matches("a\n", "a\nb\n")
    assert output_matches("def f():\n    ...\n    return 1\n", "def f():\n  x\n  y\n    return 1")
    assert output_matches("...\nend", "end")
    assert output_matches("4.7333...", "4.73338365")
    assert not output_matches("4.7333...", "4.7334")
    assert output_matches("x = ...(1)", "x = np.float64(1)")
