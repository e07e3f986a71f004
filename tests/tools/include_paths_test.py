#!/usr/bin/env python3
"""No front end reaches a private header of another folder.

Reads the build's compile_commands.json: every C file of a front end may have on its
include path only its own folder (in the source or the build tree), the folders it
is allowed to use (ALLOWED), include/ (the public header) and folders outside the
project (the system's). dsp/, model/ and tests/ are private to the library and to
the tests; cli/ and live/ do not see each other (main.c reaches live through
common/commands.h).

usage: include_paths_test.py BUILD_DIR SOURCE_DIR
"""
import json
import os
import shlex
import sys

# Each front-end folder and the other project folders it may include from.
ALLOWED = {'cli': ('common',), 'live': ('common',), 'common': (), 'plugin': (), 'ttl': ()}
FRONT_ENDS = tuple(ALLOWED)


def include_dirs(entry):
    args = entry['arguments'] if 'arguments' in entry else shlex.split(entry['command'])
    dirs = []
    for i, a in enumerate(args):
        if a == '-I' and i + 1 < len(args):
            dirs.append(args[i + 1])
        elif a.startswith('-I') and len(a) > 2:
            dirs.append(a[2:])
    return [os.path.normpath(os.path.join(entry['directory'], d)) for d in dirs]


def project_folder(path, build, src):
    """The project folder a path belongs to ('cli', 'include', ...), or None outside."""
    for root in (build, src):  # the build tree first: it may sit inside the source tree
        rel = os.path.relpath(path, root)
        if rel == '.' or not rel.startswith('..'):
            return '.' if rel == '.' else rel.split(os.sep)[0]
    return None


def violations(entries, build, src):
    found = []
    for e in entries:
        source = os.path.normpath(os.path.join(e['directory'], e['file']))
        owner = project_folder(source, build, src)
        if owner not in FRONT_ENDS or os.path.relpath(source, build).split(os.sep)[0] != '..':
            continue  # not a front end's source (generated files live in the build tree)
        for d in include_dirs(e):
            folder = project_folder(d, build, src)
            if folder not in (None, owner, 'include') + ALLOWED[owner]:
                found.append((os.path.relpath(source, src), os.path.relpath(d, src)))
    return found


def main():
    build, src = (os.path.realpath(p) for p in sys.argv[1:3])
    entries = json.load(open(os.path.join(build, 'compile_commands.json')))
    checked = sum(project_folder(os.path.normpath(os.path.join(e['directory'], e['file'])),
                                 build, src) in FRONT_ENDS for e in entries)
    # The check can fail: a front end's file with dsp/ on its path is caught.
    probe = {'directory': build, 'file': os.path.join(src, 'cli', 'probe.c'),
             'arguments': ['cc', '-I' + os.path.join(src, 'dsp'), '-c', 'probe.c']}
    if not violations([probe], build, src):
        print('FAIL - the check misses a front end that reaches dsp/')
        return 1
    bad = violations(entries, build, src)
    for source, d in bad:
        print(f'FAIL - {source} has {d} on its include path (a private folder)')
    if checked == 0:
        print('FAIL - no front-end source in compile_commands.json')
        return 1
    if not bad:
        print(f'ok - {checked} front-end compilations ({", ".join(FRONT_ENDS)}) see only their '
              'own folder, what ALLOWED gives them, include/ and the system')
    return 1 if bad else 0


if __name__ == '__main__':
    sys.exit(main())
