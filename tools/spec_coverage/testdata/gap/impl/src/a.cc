// BIND-001, BIND-002..003: a range names only its first rule.
int a = 0;
