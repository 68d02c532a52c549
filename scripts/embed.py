#!/usr/bin/env python3
# embed.py — turn a text file (the SQL schema) into a C header holding it as
# one string constant, so the engine carries its schema with it.
import sys

name, src, dst = sys.argv[1], sys.argv[2], sys.argv[3]
with open(src, encoding='utf-8') as f:
    text = f.read()
with open(dst, 'w', encoding='utf-8') as f:
    f.write('/* generated from %s by embed.py: do not edit */\n' % src.split('/')[-1])
    f.write('static const char %s[] =\n' % name)
    for line in text.splitlines():
        esc = line.replace('\\', '\\\\').replace('"', '\\"')
        f.write('\t"%s\\n"\n' % esc)
    f.write(';\n')
