"""Opt-in download of OGB node-property datasets into a local root.

Nothing in graphbias downloads at import, load or test time: loaders read a local
root and name the files they miss. ``graphbias bench --download`` (or a call to
:func:`download_ogb_node`) is the one explicit way to fetch a dataset; it uses
``ogb``'s own downloader and leaves the raw folder where
:func:`~graphbias.data.datasets.load_ogb_node` reads it.
"""
from __future__ import annotations

import shutil
from pathlib import Path
from typing import Union

from .datasets.ogb import _OGB_NODE, _OGB_URL, _ogb_dirname

__all__ = ["download_ogb_node", "download_command"]


def download_command(root: Union[str, Path], name: str) -> str:
    """The shell command that fetches ``name`` into ``root``.

    Parameters
    ----------
    root : str or path-like
        The data root.
    name : str
        The OGB dataset, e.g. ``"ogbn-arxiv"``.

    Returns
    -------
    str

    Examples
    --------
    >>> download_command("data", "ogbn-arxiv")
    'graphbias bench --download --datasets ogbn-arxiv --root data'
    """
    return f"graphbias bench --download --datasets {name} --root {root}"


def download_ogb_node(root: Union[str, Path], name: str) -> Path:
    """Downloads and unpacks OGB dataset ``name`` as ``root/<name_>/``; returns it.

    The one explicit network access in graphbias; nothing else downloads. A
    dataset already unpacked there is returned without downloading.

    Parameters
    ----------
    root : str or path-like
        The data root (:func:`~graphbias.data.datasets.load_ogb_node` reads it).
    name : str
        A known OGB node-property dataset, e.g. ``"ogbn-arxiv"``.

    Returns
    -------
    pathlib.Path
        ``root/<name_>``.

    Raises
    ------
    ValueError
        ``name`` is not a known OGB node dataset.

    Examples
    --------
    >>> download_ogb_node("data", "ogbn-unknown")
    Traceback (most recent call last):
    ...
    ValueError: unknown OGB node dataset 'ogbn-unknown'; known: ['ogbn-arxiv', 'ogbn-mag', 'ogbn-papers100M', 'ogbn-products', 'ogbn-proteins']
    """
    meta = _OGB_NODE.get(name)
    if meta is None:
        raise ValueError(f"unknown OGB node dataset {name!r}; known: {sorted(_OGB_NODE)}")
    from ogb.utils.url import download_url, extract_zip

    root = Path(root)
    target = root / _ogb_dirname(name)
    if (target / "raw" / "edge.csv.gz").is_file():
        return target
    archive = Path(download_url(_OGB_URL.format(meta.download), str(root)))
    extract_zip(str(archive), str(root))
    archive.unlink()
    extracted = root / meta.download
    if extracted != target:
        if target.exists():
            shutil.rmtree(target)
        extracted.rename(target)
    return target
