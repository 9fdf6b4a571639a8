/*
 * The reference reach agent in C: speaks Portia's agent protocol (docs/protocol.md) on its
 * standard input and output, with the C library and its maths library only.
 *
 *   cc -O2 -o reach_agent reach_agent.c -lm
 *   portia bench --suite smoke-v0 --agent "exec:./reach_agent"
 *
 * The controller is pattern search through imagine, as in
 * portia_envs/agent_examples/reach_controller.py, with the same constants and the same
 * arithmetic (candidates in double, imagined and sent as float), so that the Python,
 * C and Node.js reference agents play the same episodes. It reads arrays sent as raw
 * buffers (any dtype of the protocol) or as JSON lists, and sends its own as raw float32.
 *
 * On a hello of another protocol version, or a message it cannot read, it answers error
 * and exits with code 1; on a message of an unknown type it answers error and goes on; on
 * close, or at the end of its input, it exits with code 0. It logs to standard error.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PROTOCOL_VERSION 1
#define AGENT_NAME "reach-search-c"
#define AGENT_VERSION "1"
#define MAX_HEADER_BYTES (1u << 20)
#define MAX_FRAME_BYTES (1u << 28)
#define MAX_DEPTH 64
/* The longest action this agent acts with. */
#define MAX_ACTION 64
#define MAX_CANDIDATES (1 + 2 * (MAX_ACTION - 1))

/* The controller's constants: reach_controller.py's. */
#define HORIZON 3
#define FIRST_STEP 0.1
#define MIN_STEP 0.01
#define MAX_STEP 0.25
#define SHRINK 0.5
#define GROW 2.0
#define GRIPPER (-1.0)

/* ------------------------------------------------------------------ JSON headers -- */

enum kind { J_NULL, J_BOOL, J_NUMBER, J_STRING, J_ARRAY, J_OBJECT };

/* A parsed value. Strings point into the header, escapes kept; containers list their
 * children through first and next; an object's children carry their keys. */
typedef struct {
    int kind;
    double number;
    const char *text;
    size_t length;
    const char *key;
    size_t key_length;
    int first;
    int next;
} node;

typedef struct {
    const char *s;
    size_t n, pos;
    node *nodes;
    int count, capacity;
} parser;

static int parse_value(parser *p, int depth);

static void skip_space(parser *p) {
    while (p->pos < p->n && (p->s[p->pos] == ' ' || p->s[p->pos] == '\t' ||
                             p->s[p->pos] == '\r' || p->s[p->pos] == '\n'))
        p->pos++;
}

static int new_node(parser *p, int kind) {
    if (p->count == p->capacity) {
        int capacity = p->capacity ? 2 * p->capacity : 256;
        node *grown = realloc(p->nodes, (size_t)capacity * sizeof(node));
        if (!grown) return -1;
        p->nodes = grown;
        p->capacity = capacity;
    }
    node *v = &p->nodes[p->count];
    memset(v, 0, sizeof(*v));
    v->kind = kind;
    v->first = v->next = -1;
    return p->count++;
}

/* Reads a string at p->pos (its opening quote); sets its raw text. Returns 0 if broken. */
static int parse_string(parser *p, const char **text, size_t *length) {
    if (p->pos >= p->n || p->s[p->pos] != '"') return 0;
    size_t start = ++p->pos;
    while (p->pos < p->n && p->s[p->pos] != '"') {
        if ((unsigned char)p->s[p->pos] < 0x20) return 0;
        p->pos += p->s[p->pos] == '\\' ? 2 : 1;
    }
    if (p->pos >= p->n) return 0;
    *text = p->s + start;
    *length = p->pos - start;
    p->pos++;
    return 1;
}

static int parse_container(parser *p, int depth, int object) {
    int index = new_node(p, object ? J_OBJECT : J_ARRAY), last = -1;
    if (index < 0) return -1;
    p->pos++;
    skip_space(p);
    if (p->pos < p->n && p->s[p->pos] == (object ? '}' : ']')) {
        p->pos++;
        return index;
    }
    for (;;) {
        const char *key = NULL;
        size_t key_length = 0;
        if (object) {
            skip_space(p);
            if (!parse_string(p, &key, &key_length)) return -1;
            skip_space(p);
            if (p->pos >= p->n || p->s[p->pos] != ':') return -1;
            p->pos++;
        }
        int child = parse_value(p, depth + 1);
        if (child < 0) return -1;
        p->nodes[child].key = key;
        p->nodes[child].key_length = key_length;
        if (last < 0) p->nodes[index].first = child;
        else p->nodes[last].next = child;
        last = child;
        skip_space(p);
        if (p->pos < p->n && p->s[p->pos] == ',') {
            p->pos++;
            continue;
        }
        if (p->pos < p->n && p->s[p->pos] == (object ? '}' : ']')) {
            p->pos++;
            return index;
        }
        return -1;
    }
}

/* Parses one value at p->pos; returns its node, or -1 if the text is not JSON. */
static int parse_value(parser *p, int depth) {
    if (depth > MAX_DEPTH) return -1;
    skip_space(p);
    if (p->pos >= p->n) return -1;
    char c = p->s[p->pos];
    if (c == '{' || c == '[') return parse_container(p, depth, c == '{');
    if (c == '"') {
        int index = new_node(p, J_STRING);
        if (index < 0 || !parse_string(p, &p->nodes[index].text, &p->nodes[index].length))
            return -1;
        return index;
    }
    if (c == '-' || (c >= '0' && c <= '9')) {
        if (c == '-' && (p->pos + 1 >= p->n || p->s[p->pos + 1] < '0' || p->s[p->pos + 1] > '9'))
            return -1;
        char *end;
        double number = strtod(p->s + p->pos, &end);
        int index = new_node(p, J_NUMBER);
        if (index < 0) return -1;
        p->nodes[index].number = number;
        p->pos = (size_t)(end - p->s);
        return index;
    }
    static const char *words[] = {"true", "false", "null"};
    for (int i = 0; i < 3; i++) {
        size_t length = strlen(words[i]);
        if (p->n - p->pos >= length && memcmp(p->s + p->pos, words[i], length) == 0) {
            int index = new_node(p, i == 2 ? J_NULL : J_BOOL);
            if (index < 0) return -1;
            p->nodes[index].number = i == 0;
            p->pos += length;
            return index;
        }
    }
    return -1;
}

/* The member `key` of object `index`, or -1. */
static int member(const parser *p, int index, const char *key) {
    if (index < 0 || p->nodes[index].kind != J_OBJECT) return -1;
    size_t length = strlen(key);
    for (int child = p->nodes[index].first; child >= 0; child = p->nodes[child].next)
        if (p->nodes[child].key_length == length && memcmp(p->nodes[child].key, key, length) == 0)
            return child;
    return -1;
}

static int is_string(const parser *p, int index, const char *text) {
    return index >= 0 && p->nodes[index].kind == J_STRING &&
           p->nodes[index].length == strlen(text) &&
           memcmp(p->nodes[index].text, text, p->nodes[index].length) == 0;
}

/* ------------------------------------------------------------------------- Frames -- */

typedef struct {
    char *header;
    size_t header_capacity;
    parser json;
    int root;
    unsigned char *data;
    size_t data_capacity;
    size_t offsets[256];
    size_t sizes[256];
    int buffers;
} frame;

enum { FRAME_OK, FRAME_END, FRAME_BROKEN };
static char broken_reason[160];

static int read_exact(void *destination, size_t size) {
    return fread(destination, 1, size, stdin) == size;
}

static int grow(void **memory, size_t *capacity, size_t size) {
    if (size <= *capacity) return 1;
    void *grown = realloc(*memory, size);
    if (!grown) return 0;
    *memory = grown;
    *capacity = size;
    return 1;
}

/* Reads the next frame: its header parsed, its buffers in f->data. */
static int receive(frame *f) {
    unsigned char length_bytes[4];
    if (!read_exact(length_bytes, 4)) return FRAME_END;
    uint32_t length = (uint32_t)length_bytes[0] | (uint32_t)length_bytes[1] << 8 |
                      (uint32_t)length_bytes[2] << 16 | (uint32_t)length_bytes[3] << 24;
    if (length > MAX_HEADER_BYTES) {
        snprintf(broken_reason, sizeof broken_reason,
                 "a header of %lu bytes is over the %u accepted", (unsigned long)length,
                 MAX_HEADER_BYTES);
        return FRAME_BROKEN;
    }
    if (!grow((void **)&f->header, &f->header_capacity, (size_t)length + 1)) {
        snprintf(broken_reason, sizeof broken_reason, "out of memory for a header");
        return FRAME_BROKEN;
    }
    if (!read_exact(f->header, length)) return FRAME_END;
    f->header[length] = '\0';
    f->json.s = f->header;
    f->json.n = length;
    f->json.pos = 0;
    f->json.count = 0;
    f->root = parse_value(&f->json, 0);
    skip_space(&f->json);
    int type = member(&f->json, f->root, "type");
    if (f->root < 0 || f->json.pos != f->json.n || type < 0 ||
        f->json.nodes[type].kind != J_STRING) {
        snprintf(broken_reason, sizeof broken_reason,
                 "a message header is not a JSON object with a 'type'");
        return FRAME_BROKEN;
    }
    int list = member(&f->json, f->root, "buffers");
    size_t total = 0;
    f->buffers = 0;
    for (int item = list >= 0 ? f->json.nodes[list].first : -1; item >= 0;
         item = f->json.nodes[item].next) {
        double size = f->json.nodes[item].number;
        if (f->json.nodes[item].kind != J_NUMBER || size < 0 || size != floor(size) ||
            f->buffers == 256 || total + size > MAX_FRAME_BYTES) {
            snprintf(broken_reason, sizeof broken_reason,
                     "'buffers' must list at most 256 byte lengths, %u bytes in all",
                     MAX_FRAME_BYTES);
            return FRAME_BROKEN;
        }
        f->offsets[f->buffers] = total;
        f->sizes[f->buffers++] = (size_t)size;
        total += (size_t)size;
    }
    if (!grow((void **)&f->data, &f->data_capacity, total + 1)) {
        snprintf(broken_reason, sizeof broken_reason, "out of memory for buffers");
        return FRAME_BROKEN;
    }
    return read_exact(f->data, total) ? FRAME_OK : FRAME_END;
}

static void send_frame(const char *header, const void *data, size_t size) {
    size_t length = strlen(header);
    unsigned char length_bytes[4] = {(unsigned char)length, (unsigned char)(length >> 8),
                                     (unsigned char)(length >> 16), (unsigned char)(length >> 24)};
    fwrite(length_bytes, 1, 4, stdout);
    fwrite(header, 1, length, stdout);
    if (size) fwrite(data, 1, size, stdout);
    fflush(stdout);
}

/* Sends an error; `message` holds no quote or backslash. */
static void send_error(const char *message) {
    char header[512];
    snprintf(header, sizeof header, "{\"type\":\"error\",\"message\":\"%s\",\"buffers\":[]}",
             message);
    send_frame(header, NULL, 0);
}

static void send_floats(const char *type, const char *field, const int *shape, int dims,
                        const float *values) {
    char header[256], shape_text[64] = "";
    size_t count = 1;
    for (int i = 0; i < dims; i++) {
        size_t used = strlen(shape_text);
        snprintf(shape_text + used, sizeof shape_text - used, "%s%d", i ? "," : "", shape[i]);
        count *= (size_t)shape[i];
    }
    snprintf(header, sizeof header,
             "{\"type\":\"%s\",\"%s\":{\"$array\":{\"buffer\":0,\"dtype\":\"<f4\","
             "\"shape\":[%s]}},\"buffers\":[%zu]}",
             type, field, shape_text, count * sizeof(float));
    send_frame(header, values, count * sizeof(float));
}

/* Flattens nested JSON lists of numbers ("inf", "-inf", "nan" as strings) into out. */
static long flatten(const parser *p, int index, double *out, long at, long max) {
    const node *v = &p->nodes[index];
    if (v->kind == J_ARRAY) {
        for (int child = v->first; child >= 0 && at >= 0; child = p->nodes[child].next)
            at = flatten(p, child, out, at, max);
        return at;
    }
    double value;
    if (v->kind == J_NUMBER) value = v->number;
    else if (is_string(p, index, "inf")) value = INFINITY;
    else if (is_string(p, index, "-inf")) value = -INFINITY;
    else if (is_string(p, index, "nan")) value = NAN;
    else return -1;
    if (at >= max) return -1;
    out[at] = value;
    return at + 1;
}

/* Reads the array at `index` (a $array reference, or JSON lists) into out, as doubles.
 * Returns how many values it holds, or -1 if it is neither or holds more than max. */
static long read_array(const frame *f, int index, double *out, long max) {
    const parser *p = &f->json;
    int reference = member(p, index, "$array");
    if (reference < 0) return index >= 0 ? flatten(p, index, out, 0, max) : -1;
    int buffer = member(p, reference, "buffer"), dtype = member(p, reference, "dtype");
    int shape = member(p, reference, "shape");
    if (buffer < 0 || shape < 0 || p->nodes[buffer].kind != J_NUMBER) return -1;
    int which = (int)p->nodes[buffer].number;
    if (which < 0 || which >= f->buffers) return -1;
    long count = 1;
    for (int n = p->nodes[shape].first; n >= 0; n = p->nodes[n].next) {
        if (p->nodes[n].kind != J_NUMBER || p->nodes[n].number < 0) return -1;
        count *= (long)p->nodes[n].number;
    }
    static const char *names[] = {"<f8", "<f4", "<i8", "<i4", "|i1", "|u1", "|b1"};
    static const size_t widths[] = {8, 4, 8, 4, 1, 1, 1};
    int kind = -1;
    for (int i = 0; i < 7; i++)
        if (is_string(p, dtype, names[i])) kind = i;
    if (kind < 0 || count > max || f->sizes[which] != (size_t)count * widths[kind]) return -1;
    const unsigned char *bytes = f->data + f->offsets[which];
    for (long i = 0; i < count; i++) {
        const unsigned char *at = bytes + i * widths[kind];
        double d;
        float s;
        int64_t l;
        int32_t w;
        switch (kind) {
        case 0: memcpy(&d, at, 8); out[i] = d; break;
        case 1: memcpy(&s, at, 4); out[i] = s; break;
        case 2: memcpy(&l, at, 8); out[i] = (double)l; break;
        case 3: memcpy(&w, at, 4); out[i] = w; break;
        case 4: out[i] = (signed char)*at; break;
        default: out[i] = *at; break;
        }
    }
    return count;
}

/* ---------------------------------------------------------------------- Controller -- */

static int action_size = 0;
static double action[MAX_ACTION];
static double step;

static void reset_controller(void) {
    for (int i = 0; i < action_size; i++) action[i] = 0.0;
    action[action_size - 1] = GRIPPER;
    step = FIRST_STEP;
}

/* One decision: imagine the candidates, choose, send the action. Returns a FRAME_ code. */
static int decide(frame *f) {
    static double candidates[MAX_CANDIDATES][MAX_ACTION];
    static float plans[MAX_CANDIDATES * HORIZON * MAX_ACTION];
    static double rewards[MAX_CANDIDATES * HORIZON];
    int joints = action_size - 1, batch = 1 + 2 * joints;
    for (int c = 0; c < batch; c++)
        for (int i = 0; i < action_size; i++) candidates[c][i] = action[i];
    for (int j = 0; j < joints; j++) {
        candidates[1 + 2 * j][j] = fmin(1.0, action[j] + step);
        candidates[2 + 2 * j][j] = fmax(-1.0, action[j] - step);
    }
    for (int c = 0; c < batch; c++)
        for (int t = 0; t < HORIZON; t++)
            for (int i = 0; i < action_size; i++)
                plans[(c * HORIZON + t) * action_size + i] = (float)candidates[c][i];
    int shape[3] = {batch, HORIZON, action_size};
    send_floats("imagine", "plans", shape, 3, plans);
    int status = receive(f);
    if (status != FRAME_OK) return status;
    int type = member(&f->json, f->root, "type");
    if (is_string(&f->json, type, "future")) {
        int reward = member(&f->json, member(&f->json, f->root, "future"), "reward");
        long count = read_array(f, reward, rewards, MAX_CANDIDATES * HORIZON);
        if (count >= HORIZON && count % HORIZON == 0) {
            int best = 0;
            double best_score = -INFINITY;
            for (int c = 0; c < count / HORIZON; c++) {
                double score = rewards[c * HORIZON + HORIZON - 1];
                if (isnan(score)) score = -INFINITY;
                if (c == 0 || score > best_score) {
                    best = c;
                    best_score = score;
                }
            }
            if (best == 0) {
                step = fmax(step * SHRINK, MIN_STEP);
            } else {
                for (int i = 0; i < action_size; i++) action[i] = candidates[best][i];
                step = fmin(step * GROW, MAX_STEP);
            }
        } else {
            fprintf(stderr, "reach agent: a future without a usable reward; holding\n");
        }
    } else if (is_string(&f->json, type, "error")) {
        fprintf(stderr, "reach agent: imagine refused; holding\n");
    } else {
        snprintf(broken_reason, sizeof broken_reason, "expected future after imagine");
        return FRAME_BROKEN;
    }
    float chosen[MAX_ACTION];
    for (int i = 0; i < action_size; i++) chosen[i] = (float)action[i];
    int action_shape[1] = {action_size};
    send_floats("action", "action", action_shape, 1, chosen);
    return FRAME_OK;
}

/* ---------------------------------------------------------------------------- Main -- */

int main(void) {
    uint16_t one = 1;
    if (*(unsigned char *)&one != 1) {
        fprintf(stderr, "reach agent: the protocol's buffers are little-endian; this host is not\n");
        return 1;
    }
    frame f;
    memset(&f, 0, sizeof f);
    int has_task = 0;
    for (;;) {
        int status = receive(&f);
        if (status == FRAME_END) return 0;
        if (status == FRAME_BROKEN) {
            send_error(broken_reason);
            return 1;
        }
        const parser *p = &f.json;
        int type = member(p, f.root, "type");
        if (is_string(p, type, "hello")) {
            int version = member(p, f.root, "protocol");
            if (version < 0 || p->nodes[version].kind != J_NUMBER ||
                p->nodes[version].number != PROTOCOL_VERSION) {
                char message[160];
                if (version >= 0 && p->nodes[version].kind == J_NUMBER)
                    snprintf(message, sizeof message,
                             "this agent speaks protocol %d; the harness asked for %g",
                             PROTOCOL_VERSION, p->nodes[version].number);
                else
                    snprintf(message, sizeof message,
                             "this agent speaks protocol %d; the hello names no version",
                             PROTOCOL_VERSION);
                send_error(message);
                return 1;
            }
            send_frame("{\"type\":\"hello\",\"protocol\":1,\"agent\":{\"name\":\"" AGENT_NAME
                       "\",\"version\":\"" AGENT_VERSION "\"},\"native_spaces\":true,"
                       "\"buffers\":[]}",
                       NULL, 0);
        } else if (is_string(p, type, "task")) {
            int space = member(p, f.root, "action_space");
            int shape = member(p, space, "shape");
            int size = shape >= 0 ? p->nodes[shape].first : -1;
            has_task = is_string(p, member(p, space, "type"), "box") && size >= 0 &&
                       p->nodes[size].next < 0 && p->nodes[size].kind == J_NUMBER &&
                       p->nodes[size].number >= 1 && p->nodes[size].number <= MAX_ACTION;
            if (has_task) {
                action_size = (int)p->nodes[size].number;
                reset_controller();
                send_frame("{\"type\":\"ready\",\"buffers\":[]}", NULL, 0);
            } else {
                send_error("the reach agent acts in a Box action space of one dimension, "
                           "of 1 to 64 values");
            }
        } else if (is_string(p, type, "reset") || is_string(p, type, "act")) {
            if (!has_task) {
                send_error("reset or act before any task message");
            } else if (is_string(p, type, "reset")) {
                reset_controller();
                send_frame("{\"type\":\"ready\",\"buffers\":[]}", NULL, 0);
            } else {
                status = decide(&f);
                if (status == FRAME_END) return 0;
                if (status == FRAME_BROKEN) {
                    send_error(broken_reason);
                    return 1;
                }
            }
        } else if (is_string(p, type, "close")) {
            return 0;
        } else {
            send_error("unknown message type; accepted: hello, task, reset, act, close");
        }
    }
}
