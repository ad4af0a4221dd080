"""Runs the installed Poetry, taught to read release data from the Simple API.

Poetry asks PyPI's per-release JSON endpoint (`pypi/<name>/<version>/json`) for the files of
each locked package. Some package indexes, such as the PyPI mirror of the machines this project
is tested on, serve the Simple API (PEP 503/691) but answer 404 there; Poetry then finds
"0 candidates" and `poetry install` fails. When, and only when, that endpoint gives nothing, this
takes the same data from the Simple API page, exactly as Poetry does for every non-PyPI source.
Against an index that serves the endpoint, Poetry behaves as shipped.
"""

import sys

from poetry.console.application import main
from poetry.inspection.info import PackageInfo
from poetry.repositories.exceptions import PackageNotFoundError
from poetry.repositories.pypi_repository import PyPiRepository

_find_links = PyPiRepository.find_links_for_package
_release_info = PyPiRepository._get_release_info


def find_links_for_package(self, package):  # type: ignore[no-untyped-def]
    links = _find_links(self, package)
    if links:
        return links
    page = self.get_page(package.name)
    return list(page.links_for_version(package.name, package.version))


def get_release_info(self, name, version):  # type: ignore[no-untyped-def]
    try:
        return _release_info(self, name, version)
    except PackageNotFoundError:
        page = self.get_page(name)
        links = list(page.links_for_version(name, version))
        if not links:
            raise
        empty = PackageInfo(
            name=name,
            version=version.text,
            summary="",
            requires_dist=[],
            requires_python=None,
            files=[],
            yanked=page.yanked(name, version),
            cache_version=str(self.CACHE_VERSION),
        )
        return self._links_to_data(links, empty)


PyPiRepository.find_links_for_package = find_links_for_package
PyPiRepository._get_release_info = get_release_info

if __name__ == "__main__":
    sys.exit(main())
