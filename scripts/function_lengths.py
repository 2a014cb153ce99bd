#!/usr/bin/python3
"""The long functions of issue 12: function bodies longer than N lines, counted
as clang-tidy's readability-function-size does (from the line of the opening brace
to that of the closing one),
lambdas included, in the C++ files under the given dirs. Comments, strings and
preprocessor lines are blanked first; a '{' opens a function body when the text
before it (since the last ';', '{' or '}') ends like a declarator: ')' plus
qualifiers or a constructor's initializer list, and is no if/for/while/switch/catch.
A stand-in for clang-tidy's readability-function-size (LineThreshold), which
needs a full parse of each file: this takes a second for the whole tree.

    scripts/function_lengths.py 80 . impl fakes tools fuzz"""
import re, sys, os
if len(sys.argv) < 4:
    sys.exit('usage: function_lengths.py LINES ROOT DIR...')
N = int(sys.argv[1]); root = sys.argv[2]; dirs = sys.argv[3:]

def blank(src):
    out = []; i = 0; n = len(src)
    while i < n:
        c = src[i]
        if src.startswith('//', i):
            j = src.find('\n', i); j = n if j < 0 else j; out.append(' ' * (j - i)); i = j
        elif src.startswith('/*', i):
            j = src.find('*/', i + 2); j = n if j < 0 else j + 2
            out.append(re.sub(r'[^\n]', ' ', src[i:j])); i = j
        elif src.startswith('R"', i) and (i == 0 or not (src[i-1].isalnum() or src[i-1] == '_')):
            m = re.match(r'R"([^(]*)\(', src[i:]); end = ')' + m.group(1) + '"'
            j = src.find(end, i); j = n if j < 0 else j + len(end)
            out.append('""' + re.sub(r'[^\n]', ' ', src[i+2:j])); i = j
        elif c == '"' or (c == "'" and not (i > 0 and src[i-1].isalnum())):
            j = i + 1
            while j < n and src[j] != c:
                j += 2 if src[j] == '\\' else 1
            out.append(c + ' ' * (j - i - 1) + c); i = j + 1
        else:
            out.append(c); i += 1
    text = ''.join(out)
    return '\n'.join('' if l.lstrip().startswith('#') else l for l in text.split('\n'))

CTRL = re.compile(r'^(if|for|while|switch|catch|else|do|try|namespace|struct|class|union|enum|extern)\b')
def is_function(head):
    h = ' '.join(head.split())
    h = re.sub(r'^(public|private|protected)\s*:\s*', '', h)
    h = re.sub(r'^(case\b[^:]*|default)\s*:\s*', '', h)
    if not h or CTRL.match(h) or h.startswith('= '): return None
    if re.search(r'\)\s*(const|override|final|noexcept(\([^)]*\))?|mutable|&|&&|\s)*(->\s*[\w:<>,\s*&]+)?$', h) or \
       re.search(r'\)\s*:\s*[\w:]+\s*[({]', h):
        m = re.search(r'([~\w:]+|operator\S+)\s*\(', h)
        if '](' in h.replace(' ', '') and (m is None or m.start() > h.find(']')): return 'lambda'
        return m.group(1) if m else '?'
    return None

def scan(path):
    src = blank(open(path, errors='replace').read())
    res = []; stack = []; head_start = 0
    line_of = lambda pos: src.count('\n', 0, pos) + 1
    for m in re.finditer(r'[{};]', src):
        ch = m.group(); pos = m.start()
        if ch == '{':
            name = is_function(src[head_start:pos])
            if name == 'lambda':
                # name the lambda by the variable it is assigned to, if any
                v = re.search(r'(\w+)\s*=\s*\[[^\]]*\]', src[head_start:pos])
                name = 'lambda' + (' ' + v.group(1) if v else '')
            stack.append((name, pos))
        elif ch == '}':
            if stack:
                name, open_pos = stack.pop()
                if name:
                    outer = next((s[0] for s in reversed(stack) if s[0] and not s[0].startswith('lambda')), None)
                    if name.startswith('lambda') and outer: name = outer + '::' + name
                    res.append((line_of(pos) - line_of(open_pos), name, line_of(open_pos)))
        head_start = pos + 1
    return res

rows = []
for d in dirs:
    for dp, _, fs in os.walk(os.path.join(root, d)):
        for f in fs:
            if f.endswith(('.cc', '.h', '.cpp')):
                p = os.path.join(dp, f)
                for n, name, line in scan(p):
                    if n > N: rows.append((n, name, os.path.relpath(p, root), line))
for n, name, p, line in sorted(rows, reverse=True):
    print(f'{n:5d}  {name:40s} {p}:{line}')
print(f'total: {len(rows)} functions over {N} lines')
