args: --users users-copy
setup:
    # The control for users-writable: the same file, not writable by others.
    printf '%s\n' 'me:$argon2id$v=19$m=8,t=1,p=1$FpU6yRwojN+hpJ6Reac/aA$pGd8JmrKnKxc1EFTuhtdyXPRRoAPpjoRB08/ffBtajc' > ../users-copy
    chmod 644 ../users-copy

S: +OK pop3d ready
@login me
S: +OK maildrop has 3 messages (454 octets)
C: QUIT
S: +OK bye, 0 messages deleted
