{#- Fails for every combination of the given columns that occurs more than once. Portable: plain
    group by / having, no adapter-specific syntax. -#}
{% test unique_combination(model, combination) %}

select
    {{ combination | join(',\n    ') }},
    count(*) as occurrences

from {{ model }}
group by {{ combination | join(', ') }}
having count(*) > 1

{% endtest %}
