/* Build-time generator of the manual page earflow(1) and the bash completion, from
 * the program's own --help texts (captured at build time), so that neither can drift
 * from the options the program takes: the control options in those texts are made
 * from the control table (common/controls.c).
 *   gen_manual man TEMPLATE OUTPUT VERSION NAME=HELP_FILE...
 *       copies the roff TEMPLATE, writing each subcommand's help as a section where
 *       the line "@COMMANDS@" stands and the version for "@VERSION@";
 *   gen_manual completion OUTPUT NAME=HELP_FILE...
 *       a bash completion script: subcommands, their options, model names, files. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_COMMANDS 8
#define MAX_OPTIONS 96

typedef struct command {
    char name[32];
    char *help;
} command;

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 4096, n = 0, got;
    char *text = malloc(cap);
    while (text && (got = fread(text + n, 1, cap - n - 1, f)) > 0) {
        n += got;
        if (n + 1 < cap)
            continue;
        char *bigger = realloc(text, cap *= 2);
        if (!bigger)
            free(text);
        text = bigger;
    }
    fclose(f);
    if (text)
        text[n] = 0;
    return text;
}

/* NAME=FILE arguments. */
static int read_commands(int argc, char **argv, command *cmds)
{
    int n = 0;
    for (int i = 0; i < argc && n < MAX_COMMANDS; i++) {
        const char *eq = strchr(argv[i], '=');
        if (!eq || eq - argv[i] >= (long)sizeof cmds[n].name) {
            fprintf(stderr, "gen_manual: expected NAME=HELP_FILE, not %s\n", argv[i]);
            return -1;
        }
        snprintf(cmds[n].name, sizeof cmds[n].name, "%.*s", (int)(eq - argv[i]), argv[i]);
        if (!(cmds[n].help = slurp(eq + 1))) {
            fprintf(stderr, "gen_manual: cannot read %s\n", eq + 1);
            return -1;
        }
        n++;
    }
    return n;
}

/* Roff text: backslashes doubled, '-' as \- (options copy and paste), a leading dot
 * or quote protected. */
static void roff_text(FILE *f, const char *s, size_t n)
{
    if (n && (s[0] == '.' || s[0] == '\''))
        fputs("\\&", f);
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '\\')
            fputs("\\e", f);
        else if (s[i] == '-')
            fputs("\\-", f);
        else
            fputc(s[i], f);
    }
}

static size_t indent_of(const char *line) { return strspn(line, " "); }

/* One subcommand's help as a man section: its usage line is the section's synopsis,
 * a line ending in ':' at the margin a subsection, an option line (indented, then '-')
 * a tagged paragraph, anything else running text. */
static void man_section(FILE *f, const command *c)
{
    fprintf(f, ".SH \"EARFLOW %s\"\n", c->name);
    for (char *cp = c->help; *cp;) {
        char *end = strchr(cp, '\n');
        size_t n = end ? (size_t)(end - cp) : strlen(cp);
        const size_t ind = indent_of(cp);
        const char *text = cp + ind;
        const size_t tn = n - ind;
        if (tn == 0) {
            fputs(".PP\n", f);
        } else if (strncmp(text, "usage: ", 7) == 0) {
            fputs(".PP\n\\fB", f);
            roff_text(f, text + 7, tn - 7);
            fputs("\\fR\n.PP\n", f);
        } else if (ind == 0 && text[tn - 1] == ':' && !memchr(text, '.', tn)) {
            fputs(".SS \"", f);
            roff_text(f, text, tn - 1);
            fputs("\"\n", f);
        } else if (ind >= 2 && text[0] == '-') {
            /* the option and its value, then (after two spaces) what it does */
            const char *gap = strstr(text, "  ");
            size_t head = gap && (size_t)(gap - text) < tn ? (size_t)(gap - text) : tn;
            fputs(".TP\n\\fB", f);
            roff_text(f, text, head);
            fputs("\\fR\n", f);
            if (head < tn) {
                const char *rest = text + head + strspn(text + head, " ");
                roff_text(f, rest, (size_t)(text + tn - rest));
                fputc('\n', f);
            }
        } else {
            roff_text(f, text, tn);
            fputc('\n', f);
        }
        if (!end)
            break;
        cp = end + 1;
    }
}

static int man(int argc, char **argv)
{
    if (argc < 4)
        return 2;
    command cmds[MAX_COMMANDS];
    const int n = read_commands(argc - 3, argv + 3, cmds);
    char *tmpl = slurp(argv[0]);
    FILE *out = fopen(argv[1], "w");
    if (n < 0 || !tmpl || !out) {
        fprintf(stderr, "gen_manual: cannot read %s or write %s\n", argv[0], argv[1]);
        return 1;
    }
    for (char *line = tmpl, *end; line && *line; line = end ? end + 1 : NULL) {
        end = strchr(line, '\n');
        if (end)
            *end = 0;
        char *at = strstr(line, "@VERSION@");
        if (strcmp(line, "@COMMANDS@") == 0) {
            for (int i = 0; i < n; i++)
                man_section(out, &cmds[i]);
        } else if (at) {
            fprintf(out, "%.*s%s%s\n", (int)(at - line), line, argv[2], at + 9);
        } else {
            fprintf(out, "%s\n", line);
        }
    }
    free(tmpl);
    for (int i = 0; i < n; i++)
        free(cmds[i].help);
    return fclose(out) == 0 ? 0 : 1;
}

/* The long and short options a help text lists ("-i, --input FILE" -> -i --input). */
static int options_of(const char *help, char opts[][40])
{
    int n = 0;
    for (const char *line = help, *end; *line; line = end ? end + 1 : line + strlen(line)) {
        end = strchr(line, '\n');
        const char *text = line + indent_of(line);
        if (indent_of(line) < 2 || text[0] != '-')
            continue;
        for (const char *p = text; *p == '-' && n < MAX_OPTIONS;) {
            const size_t len = strcspn(p, " ,=\n");
            snprintf(opts[n++], sizeof opts[0], "%.*s", (int)len, p);
            p += len;
            if (*p != ',')
                break;
            p += strspn(p, ", ");
        }
    }
    return n;
}

static int completion(int argc, char **argv)
{
    if (argc < 2)
        return 2;
    command cmds[MAX_COMMANDS];
    const int n = read_commands(argc - 1, argv + 1, cmds);
    FILE *f = fopen(argv[0], "w");
    if (n < 0 || !f)
        return 1;
    fputs("# bash completion for earflow (generated by cli/gen_manual.c from the program's\n"
          "# --help texts; do not edit)\n"
          "_earflow()\n{\n"
          "    local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]} opts\n"
          "    if [ \"$COMP_CWORD\" -eq 1 ]; then\n"
          "        COMPREPLY=($(compgen -W \"", f);
    for (int i = 0; i < n; i++)
        fprintf(f, "%s ", cmds[i].name);
    fputs("--help --version\" -- \"$cur\"))\n        return\n    fi\n"
          "    case $prev in\n"
          "        -m|--model) COMPREPLY=($(compgen -W \"binaural separate identity\" -- \"$cur\")"
          " $(compgen -f -X '!*.safetensors' -- \"$cur\") $(compgen -d -- \"$cur\")); return ;;\n"
          "        -i|--input|-o|--output|--trajectory|--record-input|--record-output)"
          " COMPREPLY=($(compgen -f -- \"$cur\")); return ;;\n"
          "    esac\n"
          "    case ${COMP_WORDS[1]} in\n", f);
    for (int i = 0; i < n; i++) {
        char opts[MAX_OPTIONS][40];
        const int k = options_of(cmds[i].help, opts);
        fprintf(f, "        %s) opts=\"", cmds[i].name);
        for (int j = 0; j < k; j++)
            fprintf(f, "%s%s", j ? " " : "", opts[j]);
        fputs("\" ;;\n", f);
    }
    fputs("        *) return ;;\n    esac\n"
          "    if [[ $cur == -* ]]; then\n"
          "        COMPREPLY=($(compgen -W \"$opts\" -- \"$cur\"))\n"
          "    else\n"
          "        COMPREPLY=($(compgen -f -- \"$cur\"))\n"
          "    fi\n}\ncomplete -o filenames -F _earflow earflow\n", f);
    for (int i = 0; i < n; i++)
        free(cmds[i].help);
    return fclose(f) == 0 ? 0 : 1;
}

int main(int argc, char **argv)
{
    int rc = 2;
    if (argc > 1 && strcmp(argv[1], "man") == 0)
        rc = man(argc - 2, argv + 2);
    else if (argc > 1 && strcmp(argv[1], "completion") == 0)
        rc = completion(argc - 2, argv + 2);
    if (rc == 2)
        fprintf(stderr, "usage: gen_manual man TEMPLATE OUTPUT VERSION NAME=HELP_FILE...\n"
                        "       gen_manual completion OUTPUT NAME=HELP_FILE...\n");
    return rc;
}
