with

source as (

    select * from {{ source('autotask', '_load_log') }}

),

renamed as (

    select
        load_id,
        loaded_at,
        source_dir,
        entity as entity_name,
        source_file,
        row_count

    from source

)

select * from renamed
