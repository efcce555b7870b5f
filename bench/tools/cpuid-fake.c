/*
 * cpuid-fake: an LD_PRELOAD library that makes this process (and its threads) see another CPU
 * description, to reproduce crashes that only happen on machines whose CPUID reports odd
 * cache/topology data (VMs). It turns on CPUID faulting (arch_prctl(ARCH_SET_CPUID, 0), needs
 * the `cpuid_fault` CPU flag), emulates every CPUID in a SIGSEGV handler with the real values,
 * and rewrites the registers the rules name. Other SIGSEGVs go to whatever handler the program
 * installed (sigaction/signal are interposed so V8's and Node's handlers are chained, not lost).
 *
 * Build: gcc -O2 -shared -fPIC -o /tmp/cpuid-fake.so bench/tools/cpuid-fake.c -ldl
 * Use:   CPUID_FAKE='0x8000001d:eax=0,ebx=0,ecx=0,edx=0;0/0:ecx=0x444d4163' LD_PRELOAD=/tmp/cpuid-fake.so node …
 *
 * Rules (';'-separated): LEAF[/SUB]:REG OP VALUE[,REG OP VALUE…] with REG eax|ebx|ecx|edx,
 * OP '=' (set), '&' (and), '|' (or); numbers in C syntax (0x… or decimal). A rule without /SUB
 * matches every subleaf. CPUID_FAKE_LOG=1 prints each emulated CPUID to stderr.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <ucontext.h>
#include <unistd.h>

#define ARCH_GET_CPUID 0x1011
#define ARCH_SET_CPUID 0x1012
#define MAX_RULES 64

struct rule {
  uint32_t leaf;
  int64_t sub; /* -1: any subleaf */
  int reg;     /* 0..3 = eax, ebx, ecx, edx */
  char op;     /* '=', '&', '|' */
  uint32_t value;
};

static struct rule rules[MAX_RULES];
static int n_rules;
static int log_calls;
static struct sigaction chained; /* the program's own SIGSEGV action */
static int active;

typedef int (*sigaction_fn)(int, const struct sigaction *, struct sigaction *);
static sigaction_fn real_sigaction;

static void real_cpuid(uint32_t leaf, uint32_t sub, uint32_t r[4]) {
  __asm__ volatile("cpuid" : "=a"(r[0]), "=b"(r[1]), "=c"(r[2]), "=d"(r[3]) : "a"(leaf), "c"(sub));
}

static int reg_index(const char *s) {
  if (!strncmp(s, "eax", 3)) return 0;
  if (!strncmp(s, "ebx", 3)) return 1;
  if (!strncmp(s, "ecx", 3)) return 2;
  if (!strncmp(s, "edx", 3)) return 3;
  return -1;
}

static void parse_rules(const char *spec) {
  char *copy = strdup(spec), *save = NULL;
  for (char *r = strtok_r(copy, ";", &save); r && n_rules < MAX_RULES; r = strtok_r(NULL, ";", &save)) {
    char *colon = strchr(r, ':');
    if (!colon) continue;
    *colon = 0;
    char *slash = strchr(r, '/');
    int64_t sub = -1;
    if (slash) {
      *slash = 0;
      if (slash[1] != '*') sub = (int64_t)strtoul(slash + 1, NULL, 0);
    }
    uint32_t leaf = (uint32_t)strtoul(r, NULL, 0);
    char *save2 = NULL;
    for (char *a = strtok_r(colon + 1, ",", &save2); a && n_rules < MAX_RULES; a = strtok_r(NULL, ",", &save2)) {
      int reg = reg_index(a);
      if (reg < 0 || !strchr("=&|", a[3])) {
        fprintf(stderr, "cpuid-fake: bad assignment '%s'\n", a);
        continue;
      }
      rules[n_rules++] = (struct rule){ leaf, sub, reg, a[3], (uint32_t)strtoul(a + 4, NULL, 0) };
    }
  }
  free(copy);
}

static void emulate(uint32_t leaf, uint32_t sub, uint32_t r[4]) {
  /* CPUID is faulting in this thread: allow it for one instruction. */
  syscall(SYS_arch_prctl, ARCH_SET_CPUID, 1);
  real_cpuid(leaf, sub, r);
  syscall(SYS_arch_prctl, ARCH_SET_CPUID, 0);
  for (int i = 0; i < n_rules; i++) {
    const struct rule *x = &rules[i];
    if (x->leaf != leaf || (x->sub >= 0 && (uint32_t)x->sub != sub)) continue;
    if (x->op == '=') r[x->reg] = x->value;
    else if (x->op == '&') r[x->reg] &= x->value;
    else r[x->reg] |= x->value;
  }
}

static void on_segv(int sig, siginfo_t *info, void *ctx) {
  ucontext_t *uc = (ucontext_t *)ctx;
  greg_t *g = uc->uc_mcontext.gregs;
  const unsigned char *ip = (const unsigned char *)g[REG_RIP];
  if (info->si_code == SI_KERNEL && ip[0] == 0x0f && ip[1] == 0xa2) {
    uint32_t r[4];
    uint32_t leaf = (uint32_t)g[REG_RAX], sub = (uint32_t)g[REG_RCX];
    emulate(leaf, sub, r);
    if (log_calls) {
      char line[128];
      int n = snprintf(line, sizeof line, "cpuid-fake: %#x/%u -> %08x %08x %08x %08x\n", leaf, sub, r[0], r[1], r[2], r[3]);
      if (write(2, line, (size_t)n) < 0) { /* nothing to do */ }
    }
    g[REG_RAX] = r[0];
    g[REG_RBX] = r[1];
    g[REG_RCX] = r[2];
    g[REG_RDX] = r[3];
    g[REG_RIP] += 2;
    return;
  }
  /* Not ours: hand it to the program's handler, or die as the program would have. */
  if (chained.sa_flags & SA_SIGINFO) {
    chained.sa_sigaction(sig, info, ctx);
  } else if (chained.sa_handler != SIG_DFL && chained.sa_handler != SIG_IGN) {
    chained.sa_handler(sig);
  } else {
    struct sigaction dfl = { 0 };
    dfl.sa_handler = SIG_DFL;
    real_sigaction(SIGSEGV, &dfl, NULL);
  }
}

int sigaction(int sig, const struct sigaction *act, struct sigaction *old) {
  if (!real_sigaction) real_sigaction = (sigaction_fn)dlsym(RTLD_NEXT, "sigaction");
  if (sig != SIGSEGV || !active) return real_sigaction(sig, act, old);
  if (old) *old = chained;
  if (act) chained = *act;
  return 0;
}

sighandler_t signal(int sig, sighandler_t handler) {
  struct sigaction act = { 0 }, old = { 0 };
  act.sa_handler = handler;
  sigemptyset(&act.sa_mask);
  act.sa_flags = SA_RESTART;
  if (sigaction(sig, &act, &old) < 0) return SIG_ERR;
  return old.sa_handler;
}

__attribute__((constructor)) static void init(void) {
  const char *spec = getenv("CPUID_FAKE");
  if (!spec || !*spec) return;
  real_sigaction = (sigaction_fn)dlsym(RTLD_NEXT, "sigaction");
  log_calls = getenv("CPUID_FAKE_LOG") != NULL;
  parse_rules(spec);
  chained.sa_handler = SIG_DFL;
  struct sigaction act = { 0 };
  act.sa_sigaction = on_segv;
  act.sa_flags = SA_SIGINFO | SA_NODEFER;
  sigemptyset(&act.sa_mask);
  real_sigaction(SIGSEGV, &act, NULL);
  active = 1;
  if (syscall(SYS_arch_prctl, ARCH_SET_CPUID, 0) != 0) {
    perror("cpuid-fake: arch_prctl(ARCH_SET_CPUID, 0) (needs the cpuid_fault CPU flag)");
    return;
  }
  /* Children started with execve get a fresh process; they are faked again through LD_PRELOAD. */
  fprintf(stderr, "cpuid-fake: %d rule(s) active\n", n_rules);
}
