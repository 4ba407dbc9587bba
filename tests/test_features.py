"""More than one feature (Lab 4-1): the data, read from a preset or a CSV header."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from lrtui.engine.data import MAX_FEATURES, DataError, load


def write(tmp_path: Path, text: str, name: str = "points.csv") -> str:
    path = tmp_path / name
    path.write_text(text)
    return str(path)


def data_error(path: str, *, quote: bool = True) -> str:
    with pytest.raises(DataError) as error:
        load(path, quote=quote)
    return str(error.value)


def test_scores_is_the_lab_4_1_table() -> None:
    dataset = load("scores")
    x_train = torch.FloatTensor([[73, 80, 75], [93, 88, 93], [89, 91, 90], [96, 98, 100], [73, 66, 70]])
    y_train = torch.FloatTensor([[152], [185], [180], [196], [142]])
    assert torch.equal(dataset.x_train, x_train) and torch.equal(dataset.y_train, y_train)
    assert dataset.features == 3 and len(dataset.names) == 3 and dataset.size == 5


def test_a_header_names_the_target_y_and_the_features_in_file_order(tmp_path: Path) -> None:
    # the slow path too: a blank line makes the reader go again, carefully
    for blank in ("", "\n"):
        dataset = load(write(tmp_path, f"a,y,b\n1,2,3\n{blank}4,5,6\n"))
        assert dataset.names == ("a", "b") and dataset.features == 2
        assert dataset.x_train.tolist() == [[1.0, 3.0], [4.0, 6.0]]
        assert dataset.y_train.tolist() == [[2.0], [5.0]]
    one = load(write(tmp_path, "y,x\n2,1\n4,3\n"))
    assert (
        one.features == 1
        and one.x_train.tolist() == [[1.0], [3.0]]
        and one.y_train.tolist() == [[2.0], [4.0]]
    )


@pytest.mark.parametrize(
    ("header", "words"),
    [
        ("a,b,c", "must name the target column y"),
        ("x,y,X", "column 3: 'X' is the name of an earlier column too"),
        ("x,,y", "column 2: the column has no name"),
        ("y", "names no feature beside y"),
        (
            ",".join([*(f"x{i}" for i in range(MAX_FEATURES + 1)), "y"]),
            f"over lrtui's limit of {MAX_FEATURES}",
        ),
    ],
)
def test_a_bad_header_is_refused_at_line_1(tmp_path: Path, header: str, words: str) -> None:
    message = data_error(write(tmp_path, f"{header}\n1,2,3\n"))
    assert "line 1" in message and words in message


def test_sixteen_features_are_read(tmp_path: Path) -> None:
    names = [f"x{i}" for i in range(MAX_FEATURES)]
    row = ",".join(str(i) for i in range(MAX_FEATURES + 1))
    dataset = load(write(tmp_path, ",".join([*names, "y"]) + f"\n{row}\n"))
    assert dataset.features == MAX_FEATURES and dataset.y_train.item() == MAX_FEATURES


def test_bad_cells_and_rows_name_line_and_column(tmp_path: Path) -> None:
    assert "line 3, column 3: 'oops' is not a number" in data_error(
        write(tmp_path, "a,b,y\n1,2,3\n4,5,oops\n")
    )
    assert "line 2, column 2" in data_error(write(tmp_path, "a,b,y\n1,1e39,3\n"))
    assert "line 2: expected 3 values (a,b,y), got 2" in data_error(write(tmp_path, "a,b,y\n1,2\n"))
    # a served app quotes nothing of the file, not even its header
    unquoted = data_error(write(tmp_path, "a,b,y\n1,2\n"), quote=False)
    assert unquoted.endswith("line 2: expected 3 values, got 2")
    assert "a,b" not in data_error(write(tmp_path, "a,A,y\n1,2,3\n"), quote=False).split(": ", 1)[1]
