# bash completion for courier: commands, options (from the program's own tables), lab names
# for `courier run`, producer keys after `courier produce -X`, consumer group keys after
# `courier consume -X`.
# Installed as share/bash-completion/completions/courier; or: source completion/courier.bash
_courier() {
    local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]}
    local prog=${COMP_WORDS[0]}
    COMPREPLY=()
    if [ "$COMP_CWORD" -eq 1 ]; then
        COMPREPLY=($(compgen -W "$("$prog" --commands 2>/dev/null) version --help --version" \
                     -- "$cur"))
        return 0
    fi
    local cmd=${COMP_WORDS[1]} opts="" spell arg
    while IFS=$'\t' read -r spell arg; do
        if [ "$spell" = "$prev" ] && [ -n "$arg" ]; then
            if [ "$cmd" = produce ] && [ "$prev" = -X ]; then
                COMPREPLY=($(compgen -W "$("$prog" --producer-keys 2>/dev/null)" -- "$cur"))
                compopt -o nospace 2>/dev/null
            elif [ "$cmd" = consume ] && [ "$prev" = -X ]; then
                COMPREPLY=($(compgen -W "$("$prog" --consumer-keys 2>/dev/null)" -- "$cur"))
                compopt -o nospace 2>/dev/null
            elif [ "$arg" = @file ]; then
                COMPREPLY=($(compgen -f -- "$cur"))
            elif [ "$arg" != @value ]; then
                COMPREPLY=($(compgen -W "$arg" -- "$cur"))
            fi
            return 0
        fi
        opts="$opts $spell"
    done < <("$prog" --options "$cmd" 2>/dev/null)
    if [[ $cur == -* ]]; then
        COMPREPLY=($(compgen -W "$opts" -- "$cur"))
    elif [ "$cmd" = run ]; then
        COMPREPLY=($(compgen -W "$("$prog" labs --names 2>/dev/null)" -- "$cur")
                   $(compgen -f -X '!*.json' -- "$cur") $(compgen -d -S / -- "$cur"))
    fi
    return 0
}
complete -F _courier courier
