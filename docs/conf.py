"""Sphinx configuration of the skmultihead reference manual (scripts/docs.sh builds it)."""

import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
sys.path.insert(0, os.path.abspath(".."))

import skmultihead  # noqa: E402

project = "skmultihead"
author = "skmultihead developers"
copyright = "skmultihead developers"
release = version = skmultihead.__version__

extensions = ["sphinx.ext.autodoc", "sphinx.ext.autosummary", "numpydoc"]
exclude_patterns = ["_build", "generated"]
default_role = "py:obj"  # `name` in a docstring links to that object where there is one

# The API page lists the estimators' own methods explicitly; inherited scikeras and
# scikit-learn methods (get_params, set_params, set_*_request, ...) are left out.
autosummary_generate = False
autodoc_member_order = "bysource"
numpydoc_show_class_members = False
numpydoc_show_inherited_class_members = False
numpydoc_class_members_toctree = False

html_theme = "alabaster"
html_static_path = []
